#include "ring_sample.hpp"

#include <ctime>

namespace ringfile::status {
namespace {

std::uint64_t realtime_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);  // the clock producers stamp records with
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(now.tv_nsec);
}

// The oldest unread record of a consumer at `cursor`. The cursor may rest on the padding that
// fills the end of a lap; the record after it starts the next lap. Nothing, when producers have
// overwritten it (a lapped consumer): the age of some later record would understate the lag.
std::optional<RecordMeta> oldest_unread(const Ring& ring, std::uint64_t cursor, std::uint64_t head) {
  const std::uint64_t capacity = ring.info().capacity_bytes;
  if (cursor >= head || head - cursor > capacity) return std::nullopt;
  if (auto record = ring.record_at(cursor)) return record;
  const std::uint64_t next_lap = (cursor / capacity + 1) * capacity;
  if (next_lap < head) return ring.record_at(next_lap);
  return std::nullopt;
}

}  // namespace

RingSample take_sample(const Ring& ring) {
  RingSample sample;
  sample.taken = std::chrono::steady_clock::now();
  sample.info = ring.info();
  // Consumers before the head: a cursor never passes the head, so lag computed from a later head
  // is never negative.
  const std::vector<ConsumerInfo> consumers = ring.consumers();
  sample.producers = ring.producers();
  sample.head = ring.head_position();
  sample.realtime_ns = realtime_now_ns();
  for (const ConsumerInfo& info : consumers) {
    ConsumerSample consumer{info, std::nullopt, std::nullopt};
    if (info.cursor >= sample.head) {
      consumer.lag_seconds = 0.0;
    } else if (const auto record = oldest_unread(ring, info.cursor, sample.head)) {
      consumer.lag_seconds = sample.realtime_ns > record->timestamp_ns
                                 ? static_cast<double>(sample.realtime_ns - record->timestamp_ns) / 1e9
                                 : 0.0;
      consumer.next_record_bytes = record->payload_bytes;
    }
    sample.consumers.push_back(std::move(consumer));
  }
  sample.residency = ring.residency();
  sample.paging = ring.paging_state();
  return sample;
}

}  // namespace ringfile::status
