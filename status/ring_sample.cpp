#include "ring_sample.hpp"

#include <ctime>

#include "ringfile/programs/lag_estimate.hpp"

namespace ringfile::status {
namespace {

std::uint64_t realtime_now_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);  // the clock producers stamp records with
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(now.tv_nsec);
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
  sample.records_written = ring.records_written();
  sample.realtime_ns = realtime_now_ns();
  for (const ConsumerInfo& info : consumers) {
    ConsumerSample consumer{info, std::nullopt, std::nullopt};
    if (info.cursor >= sample.head) {
      consumer.lag_seconds = 0.0;
    } else if (const auto record = programs::oldest_unread(ring, info.cursor, sample.head)) {
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
