// How far behind a cursor is, as ringfile-status and ringfile-consumer (--list, --reset) show it:
// bytes exactly; seconds from the timestamp of the oldest unread record; records estimated from
// the average bytes a record has taken in the ring.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ringfile/ring.hpp"

namespace ringfile::programs {

struct LagEstimate {
  std::uint64_t bytes = 0;
  std::optional<double> seconds;             // unknown once producers have overwritten the record
  std::optional<std::uint64_t> records;      // an estimate; unknown without any record size
  std::optional<std::uint32_t> next_record_bytes;  // payload of the oldest unread record
};

// Bytes a record of `payload_bytes` takes in the ring, frame header and alignment included.
double frame_bytes_for_payload(double payload_bytes);
// The average bytes of the ring a record took, over the ring's life (Ring::records_written): frame
// headers, group entries and padding included; nullopt before any record, and where the count
// is more than the head's bytes can hold (a damaged producer slot).
std::optional<double> average_frame_bytes(std::uint64_t head, std::uint64_t records_written);

// The oldest unread record of a cursor at `cursor`. The cursor may rest on padding (the end of a
// lap, the line's end after a write_batch group); the record after it is the one. Nothing, when producers have
// overwritten it (a lapped consumer): the age of some later record would understate the lag.
std::optional<RecordMeta> oldest_unread(const Ring& ring, std::uint64_t cursor, std::uint64_t head);

// The lag of `cursor` when the head is at `head`, at CLOCK_REALTIME `now_ns`.
LagEstimate estimate_lag(const Ring& ring, std::uint64_t cursor, std::uint64_t head, std::uint64_t now_ns,
                         std::optional<double> frame_bytes);

}  // namespace ringfile::programs
