#include "ringfile/programs/lag_estimate.hpp"

#include <cmath>

#include "ringfile/format/layout.hpp"
#include "ringfile/format/record_header.hpp"

namespace ringfile::programs {

double frame_bytes_for_payload(double payload_bytes) {
  const double frame = static_cast<double>(format::kRecordHeaderBytes) + payload_bytes;
  const auto alignment = static_cast<double>(format::kFrameAlignment);
  return std::ceil(frame / alignment) * alignment;
}

std::optional<double> average_frame_bytes(std::uint64_t head, std::uint64_t records_written) {
  if (records_written == 0) return std::nullopt;
  // Every record takes at least kFrameAlignment bytes of the ring (an empty one in a group: its
  // entry). More records than that are a damaged producer slot's count (found by a tester: a
  // next_sequence of 2^64-1 showed as an average of 0 bytes and a lag of 2^63 records).
  if (records_written > head / format::kFrameAlignment) return std::nullopt;
  return static_cast<double>(head) / static_cast<double>(records_written);
}

std::optional<RecordMeta> oldest_unread(const Ring& ring, std::uint64_t cursor, std::uint64_t head) {
  const std::uint64_t capacity = ring.info().capacity_bytes;
  if (cursor >= head || head - cursor > capacity) return std::nullopt;
  return ring.first_record_from(cursor);
}

LagEstimate estimate_lag(const Ring& ring, std::uint64_t cursor, std::uint64_t head, std::uint64_t now_ns,
                         std::optional<double> frame_bytes) {
  LagEstimate lag;
  lag.bytes = head > cursor ? head - cursor : 0;
  if (lag.bytes == 0) {
    lag.seconds = 0.0;
    lag.records = 0;
    return lag;
  }
  if (const auto record = oldest_unread(ring, cursor, head)) {
    lag.seconds = now_ns > record->timestamp_ns ? static_cast<double>(now_ns - record->timestamp_ns) / 1e9 : 0.0;
    lag.next_record_bytes = record->payload_bytes;
  }
  if (!frame_bytes && lag.next_record_bytes) frame_bytes = frame_bytes_for_payload(*lag.next_record_bytes);
  if (frame_bytes) {
    lag.records = static_cast<std::uint64_t>(std::llround(static_cast<double>(lag.bytes) / *frame_bytes));
  }
  return lag;
}

}  // namespace ringfile::programs
