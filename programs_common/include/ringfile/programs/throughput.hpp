// The totals a producer or consumer reports at the end, as a summary line and as JSON fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "ringfile/programs/json_writer.hpp"

namespace ringfile::programs {

struct Throughput {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;  // payload bytes
  double seconds = 0;
  double idle_seconds = 0;  // the part of `seconds` at the end spent waiting for nothing: not in the rates
  // The part at the start spent waiting for the first record (a consumer started before its
  // producers): not in the rates either (found by a tester: a consumer's rate counted it).
  double waiting_seconds = 0;

  double active_seconds() const noexcept { return seconds - idle_seconds - waiting_seconds; }
  double records_per_second() const noexcept {
    return active_seconds() > 0 ? static_cast<double>(records) / active_seconds() : 0;
  }
  double bytes_per_second() const noexcept {
    return active_seconds() > 0 ? static_cast<double>(bytes) / active_seconds() : 0;
  }
};

// "wrote 1000 records (512.0 KiB) in 1.52 s: 657 records/s, 336.8 KiB/s"; with idle time
// "read 1000 records (512.0 KiB) in 1.52 s, then idle 2.00 s: 657 records/s, 336.8 KiB/s", and
// a wait for the first "read ... in 1.52 s, after waiting 3.00 s for the first: ...".
std::string describe(const Throughput& throughput, std::string_view verb);
// The fields records, bytes, seconds, idle_seconds, waiting_seconds, records_per_s, bytes_per_s
// into the open object.
void write_fields(JsonWriter& json, const Throughput& throughput);

}  // namespace ringfile::programs
