#include "ringfile/programs/throughput.hpp"

#include "ringfile/programs/units.hpp"

namespace ringfile::programs {

std::string describe(const Throughput& throughput, std::string_view verb) {
  std::string text = std::string(verb) + " " + count_of(throughput.records, "record") + " (" +
                     format_bytes(static_cast<double>(throughput.bytes)) + ") in " +
                     format_seconds(throughput.active_seconds());
  if (throughput.waiting_seconds > 0) text += ", after waiting " + format_seconds(throughput.waiting_seconds) + " for the first";
  if (throughput.idle_seconds > 0) text += ", then idle " + format_seconds(throughput.idle_seconds);
  return text + ": " + format_count(throughput.records_per_second()) + " records/s, " +
         format_byte_rate(throughput.bytes_per_second());
}

void write_fields(JsonWriter& json, const Throughput& throughput) {
  json.field("records", throughput.records)
      .field("bytes", throughput.bytes)
      .field("seconds", throughput.seconds)
      .field("idle_seconds", throughput.idle_seconds)
      .field("waiting_seconds", throughput.waiting_seconds)
      .field("records_per_s", throughput.records_per_second())
      .field("bytes_per_s", throughput.bytes_per_second());
}

}  // namespace ringfile::programs
