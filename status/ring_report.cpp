#include "ring_report.hpp"

#include <algorithm>
#include <cmath>

#include "ringfile/format/file_header.hpp"
#include "ringfile/programs/lag_estimate.hpp"

namespace ringfile::status {
namespace {

// A live consumer that has not polled or waited for this long while records wait is stalled
// even without a second sample (the library beats every 100 ms while polling or waiting).
constexpr double kStaleHeartbeatSeconds = 2.0;
// Lag that grows by less than this over a window is jitter (batches, wake-ups), not a trend.
constexpr std::uint64_t kMinLagGrowthBytes = 64 * 1024;
// A consumer this close to a full lap behind is what block-policy producers are waiting for.
constexpr double kFullRingFraction = 0.9;

const ConsumerSample* find_same_consumer(const RingSample& sample, const ConsumerInfo& wanted) {
  for (const ConsumerSample& consumer : sample.consumers) {
    if (consumer.info.slot == wanted.slot && consumer.info.name == wanted.name && consumer.info.pid == wanted.pid) {
      return &consumer;
    }
  }
  return nullptr;
}

const ProducerInfo* find_same_producer(const RingSample& sample, const ProducerInfo& wanted) {
  for (const ProducerInfo& producer : sample.producers) {
    if (producer.slot == wanted.slot && producer.pid == wanted.pid) return &producer;
  }
  return nullptr;
}

// What a consumer's slot says that no consumer can have done, or "". The sample read the slots
// before the head and the producers' counts, which only grow, so none of these is a race.
std::string slot_damage(const ConsumerInfo& info, std::uint64_t head, std::uint64_t records_written) {
  if (info.cursor > head) {
    return "its cursor " + std::to_string(info.cursor) + " is beyond the head " + std::to_string(head) +
           ": what it had read up to there did not survive a crash of the machine, or the slot is damaged; "
           "its next attach fails until started with --from latest or --from earliest";
  }
  if (!format::plausible_position(info.cursor)) {
    return "its cursor " + std::to_string(info.cursor) +
           " is no position a record starts at: the slot is damaged; start it with --from latest or --from earliest";
  }
  if (info.lost_bytes > head) {
    return "it counts " + std::to_string(info.lost_bytes) + " bytes lost, more than producers ever wrote (" +
           std::to_string(head) + "): the slot is damaged, its counts are not to be trusted";
  }
  if (info.lost_records > records_written) {
    return "it counts " + std::to_string(info.lost_records) + " records lost, more than producers ever wrote (" +
           std::to_string(records_written) + "): the slot is damaged, its counts are not to be trusted";
  }
  return {};
}

ConsumerHealth classify(const ConsumerReport& now, const ConsumerSample* before, std::uint64_t before_head,
                       std::uint64_t capacity, std::uint64_t hold_window) {
  if (!now.damage.empty()) return ConsumerHealth::damaged;
  if (now.past_expiry) return ConsumerHealth::expired;
  if (now.detached) return ConsumerHealth::detached;
  if (!now.alive) return ConsumerHealth::dead;
  if (now.lag_bytes > capacity) return ConsumerHealth::lapped;  // its next read skips ahead
  if (before != nullptr) {
    const ConsumerInfo& earlier = before->info;
    if (now.lost_bytes > earlier.lost_bytes || now.lost_records > earlier.lost_records) return ConsumerHealth::lapped;
    const std::uint64_t earlier_lag = before_head > earlier.cursor ? before_head - earlier.cursor : 0;
    if (earlier_lag > 0 && now.lag_bytes > 0 && now.position == earlier.cursor) return ConsumerHealth::stalled;
  }
  if (now.lag_bytes > 0 && now.heartbeat_age_seconds && *now.heartbeat_age_seconds > kStaleHeartbeatSeconds) {
    return ConsumerHealth::stalled;
  }
  if (before != nullptr) {
    const std::uint64_t earlier_lag = before_head > before->info.cursor ? before_head - before->info.cursor : 0;
    const std::uint64_t tolerance = std::max<std::uint64_t>(capacity / 100, kMinLagGrowthBytes);
    if (now.lag_bytes > earlier_lag + tolerance) return ConsumerHealth::lagging;
  }
  if (now.holds_back && static_cast<double>(now.lag_bytes) >= kFullRingFraction * static_cast<double>(capacity)) {
    return ConsumerHealth::lagging;
  }
  // A follower at the end of its hold window: producers wait for it there.
  if (now.following && hold_window > 0 &&
      static_cast<double>(now.lag_bytes) >= kFullRingFraction * static_cast<double>(hold_window)) {
    return ConsumerHealth::lagging;
  }
  return ConsumerHealth::ok;
}

}  // namespace

const char* to_string(ConsumerHealth state) noexcept {
  switch (state) {
    case ConsumerHealth::ok: return "OK";
    case ConsumerHealth::lagging: return "LAGGING";
    case ConsumerHealth::stalled: return "STALLED";
    case ConsumerHealth::dead: return "DEAD";
    case ConsumerHealth::lapped: return "LAPPED";
    case ConsumerHealth::detached: return "DETACHED";
    case ConsumerHealth::expired: return "EXPIRED";
    case ConsumerHealth::damaged: return "DAMAGED";
  }
  return "UNKNOWN";
}

const char* reading_mode(const ConsumerReport& consumer) noexcept {
  // A dead consumer reads nothing, whatever its slot says it last did.
  if (consumer.detached || !consumer.alive) return "-";
  return consumer.replaying ? "replaying" : "following";
}

std::vector<std::string> damage_lines(const RingReport& report) {
  std::vector<std::string> lines;
  for (const ConsumerReport& consumer : report.consumers) {
    if (consumer.damage.empty()) continue;
    const std::string who = consumer.name.empty() ? "anonymous consumer" : "consumer '" + consumer.name + "'";
    lines.push_back(who + " (slot " + std::to_string(consumer.slot) + ") of '" + report.path.string() +
                    "': " + consumer.damage);
  }
  return lines;
}

std::string ConsumerReport::display_name() const {
  return name.empty() ? "(anonymous #" + std::to_string(slot) + ")" : name;
}

RingReport build_report(const RingSample* earlier, const RingSample& later) {
  RingReport report;
  report.path = later.info.path;
  report.realtime_ns = later.realtime_ns;
  report.capacity = later.info.capacity_bytes;
  report.policy = later.info.policy;
  report.paging = later.info.paging;
  report.max_record_bytes = later.info.max_record_bytes;
  report.head = later.head;
  report.resident_bytes = later.residency.resident_bytes;
  report.dirty_bytes = later.residency.dirty_bytes;
  report.paging_state = later.paging;
  report.average_frame_bytes = programs::average_frame_bytes(later.head, later.records_written);

  std::optional<double> window;
  if (earlier != nullptr) {
    const double seconds = std::chrono::duration<double>(later.taken - earlier->taken).count();
    if (seconds > 0) window = seconds;
  }
  report.window_seconds = window;
  if (window) report.write_bytes_per_s = static_cast<double>(later.head - earlier->head) / *window;

  for (const ConsumerSample& sample : later.consumers) {
    const ConsumerInfo& info = sample.info;
    ConsumerReport consumer;
    consumer.slot = info.slot;
    consumer.name = info.name;
    consumer.pid = info.pid;
    consumer.alive = info.alive;
    consumer.detached = info.detached;
    consumer.holds_back = info.holds_back;
    consumer.expired = info.expired;
    consumer.past_expiry = info.past_expiry;
    consumer.following = info.following;
    consumer.replaying = info.replaying;
    consumer.position = info.cursor;
    consumer.lag_bytes = later.head > info.cursor ? later.head - info.cursor : 0;
    consumer.lag_seconds = sample.lag_seconds;
    consumer.lag_fraction = static_cast<double>(consumer.lag_bytes) / static_cast<double>(report.capacity);
    consumer.lost_records = info.lost_records;
    consumer.lost_bytes = info.lost_bytes;
    consumer.damage = slot_damage(info, later.head, later.records_written);
    if (info.heartbeat_ns > 0 && !info.detached) {
      consumer.heartbeat_age_seconds =
          later.realtime_ns > info.heartbeat_ns ? static_cast<double>(later.realtime_ns - info.heartbeat_ns) / 1e9 : 0.0;
    }
    std::optional<double> frame_bytes = report.average_frame_bytes;
    if (!frame_bytes && sample.next_record_bytes) frame_bytes = programs::frame_bytes_for_payload(*sample.next_record_bytes);
    if (consumer.lag_bytes == 0) {
      consumer.lag_records_estimate = 0;
    } else if (frame_bytes) {
      consumer.lag_records_estimate =
          static_cast<std::uint64_t>(std::llround(static_cast<double>(consumer.lag_bytes) / *frame_bytes));
    }
    const ConsumerSample* before = earlier != nullptr ? find_same_consumer(*earlier, info) : nullptr;
    if (window && before != nullptr && info.cursor >= before->info.cursor) {
      consumer.read_bytes_per_s = static_cast<double>(info.cursor - before->info.cursor) / *window;
    }
    consumer.state = classify(consumer, before, earlier != nullptr ? earlier->head : 0, report.capacity,
                                report.paging_state.hold_window_bytes);
    report.consumers.push_back(std::move(consumer));
  }

  for (const ProducerInfo& info : later.producers) {
    ProducerReport producer;
    producer.slot = info.slot;
    producer.pid = info.pid;
    producer.alive = info.alive;
    producer.committed_records = info.committed_records;
    producer.committed_bytes = info.committed_bytes;
    producer.claim_open = info.open_claim_end > info.open_claim_start;
    const ProducerInfo* before = earlier != nullptr ? find_same_producer(*earlier, info) : nullptr;
    if (window && before != nullptr && info.committed_bytes >= before->committed_bytes) {
      producer.bytes_per_s = static_cast<double>(info.committed_bytes - before->committed_bytes) / *window;
      producer.records_per_s = static_cast<double>(info.committed_records - before->committed_records) / *window;
    }
    producer.waited_seconds = static_cast<double>(info.waited_ns) / 1e9;
    // A producer killed while it waited leaves its wait state in the slot until another producer
    // takes it: it waits for nothing any more.
    if (info.alive && info.waiting_since_ns != 0) {
      producer.waiting_since_ns = info.waiting_since_ns;
      producer.waiting_seconds =
          later.realtime_ns > info.waiting_since_ns ? static_cast<double>(later.realtime_ns - info.waiting_since_ns) / 1e9 : 0.0;
      producer.waiting_for = info.waiting_for_preparation ? "preparation"
                             : info.waiting_for_open_claim ? "open-claim"
                                                           : "unknown";
      for (const ConsumerReport& consumer : report.consumers) {
        if (info.waiting_for_consumer == consumer.slot) producer.waiting_for = consumer.display_name();
      }
      ++report.producers_waiting;
    }
    report.producers.push_back(producer);
  }
  report.consumer_slots_used = later.consumers.size();
  report.consumer_slots = format::kConsumerSlotCount;
  return report;
}

}  // namespace ringfile::status
