// What ringfile-status shows for a ring: per consumer its lag (bytes, estimated records,
// seconds), rates and a state; per producer its rate. Built from one sample, or from two taken a
// sampling window apart (rates and trends need two).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ring_sample.hpp"

namespace ringfile::status {

// What the status tool concludes about a consumer from two samples (format::ConsumerState is
// something else: the state of its slot in the file).
enum class ConsumerHealth {
  ok,
  lagging,   // lag grew over the window, or a full ring is waiting on this consumer
  stalled,   // not moving (or not polling) while records wait for it
  dead,      // its process is gone
  lapped,    // producers overwrote what it had not read (overwrite policy, or --no-hold)
  detached,  // a named consumer that detached cleanly; its cursor waits for its return
  expired,   // a named consumer not attached for longer than its expiry: no longer counted
  damaged,   // its slot says what no consumer can have done (ConsumerReport::damage says what)
};
inline constexpr ConsumerHealth kAllConsumerHealths[] = {ConsumerHealth::ok,      ConsumerHealth::lagging,
                                                       ConsumerHealth::stalled, ConsumerHealth::dead,
                                                       ConsumerHealth::lapped,  ConsumerHealth::detached,
                                                       ConsumerHealth::expired, ConsumerHealth::damaged};
const char* to_string(ConsumerHealth state) noexcept;

struct ConsumerReport {
  std::uint32_t slot = 0;
  std::string name;  // empty: anonymous
  std::uint64_t pid = 0;
  bool alive = false;
  bool detached = false;
  bool holds_back = false;
  bool expired = false;      // dead past its grace period: holds producers back no longer
  bool past_expiry = false;  // not attached for longer than its expiry
  bool following = false;    // block policy: within the hold window, producers wait for it there
  bool replaying = false;    // its next records are no longer in memory: it reads them from disk
  std::uint64_t position = 0;
  std::uint64_t lag_bytes = 0;
  std::optional<double> lag_seconds;
  std::optional<std::uint64_t> lag_records_estimate;
  double lag_fraction = 0;  // of the capacity; above 1 when lapped
  std::optional<double> read_bytes_per_s;
  std::optional<double> heartbeat_age_seconds;
  std::uint64_t lost_records = 0;
  std::uint64_t lost_bytes = 0;
  ConsumerHealth state = ConsumerHealth::ok;
  // For a damaged one: what its slot says that cannot be, and what to do ("its cursor 4096 is
  // beyond the head 1024: ..."); empty otherwise.
  std::string damage;

  std::string display_name() const;  // the name, or "(anonymous #slot)"
};

struct ProducerReport {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;
  std::uint64_t committed_records = 0;
  std::uint64_t committed_bytes = 0;
  bool claim_open = false;
  std::optional<double> bytes_per_s;
  std::optional<double> records_per_s;
  // Held back: waiting for space since this long, for a consumer (its display name) or for
  // "preparation" (the paging engine ahead of the head); and its time waited in total.
  std::optional<double> waiting_seconds;
  std::optional<std::uint64_t> waiting_since_ns;
  std::string waiting_for;
  double waited_seconds = 0;
};

struct RingReport {
  std::filesystem::path path;
  std::uint64_t realtime_ns = 0;
  std::uint64_t capacity = 0;
  WriterPolicy policy = WriterPolicy::block;
  PagingStrategy paging = PagingStrategy::none;
  std::uint32_t max_record_bytes = 0;
  std::uint64_t head = 0;
  std::optional<double> window_seconds;
  std::optional<double> write_bytes_per_s;  // head movement, frame headers and padding included
  std::uint64_t resident_bytes = 0;
  std::optional<std::uint64_t> dirty_bytes;
  PagingState paging_state;  // budget and hold window as the producers last published them
  // Average bytes a record takes in the ring, from the producers' counts; basis of the estimates.
  std::optional<double> average_frame_bytes;
  std::vector<ConsumerReport> consumers;
  std::vector<ProducerReport> producers;
  std::size_t producers_waiting = 0;
  std::size_t consumer_slots_used = 0;  // of consumer_slots, including those past expiry
  std::size_t consumer_slots = 0;
};

// `earlier` is the sample a window before `later` (same ring), or null for a single sample.
RingReport build_report(const RingSample* earlier, const RingSample& later);

// One line for each damaged consumer of the report: which consumer of which ring, and its damage.
std::vector<std::string> damage_lines(const RingReport& report);

// "following", "replaying", or "-" for a consumer that is not attached.
const char* reading_mode(const ConsumerReport& consumer) noexcept;

}  // namespace ringfile::status
