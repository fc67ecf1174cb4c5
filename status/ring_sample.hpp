// One read-only look at a ring: head, slot tables, the age of each consumer's oldest unread
// record, page cache use. Two samples taken apart give rates and trends (ring_report.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "ringfile/ring.hpp"

namespace ringfile::status {

struct ConsumerSample {
  ConsumerInfo info;
  // Age of the oldest unread record (from its timestamp), when that record can be found.
  std::optional<double> lag_seconds;
  // Payload size of the oldest unread record: a fallback for estimating the lag in records.
  std::optional<std::uint32_t> next_record_bytes;
};

struct RingSample {
  std::chrono::steady_clock::time_point taken;
  std::uint64_t realtime_ns = 0;
  RingInfo info;
  std::uint64_t head = 0;
  std::uint64_t records_written = 0;  // Ring::records_written
  std::vector<ConsumerSample> consumers;
  std::vector<ProducerInfo> producers;
  Ring::Residency residency;
  PagingState paging;
};

// Reads only: the ring must have been opened with OpenOptions{.read_only = true}.
RingSample take_sample(const Ring& ring);

}  // namespace ringfile::status
