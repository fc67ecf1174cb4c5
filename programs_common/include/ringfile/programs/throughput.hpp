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

  double records_per_second() const noexcept { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
  double bytes_per_second() const noexcept { return seconds > 0 ? static_cast<double>(bytes) / seconds : 0; }
};

// "wrote 1000 records (512.0 KiB) in 1.52 s: 657 records/s, 336.8 KiB/s"
std::string describe(const Throughput& throughput, std::string_view verb);
// The fields records, bytes, seconds, records_per_s, bytes_per_s into the open object.
void write_fields(JsonWriter& json, const Throughput& throughput);

}  // namespace ringfile::programs
