#include "producer_tally.hpp"

#include "ringfile/programs/units.hpp"

namespace ringfile::producer {

TallyTotals sum(std::span<const ProducerTally> tallies) {
  TallyTotals totals;
  for (const auto& tally : tallies) {
    totals.records += tally.records.load(std::memory_order_relaxed);
    totals.bytes += tally.bytes.load(std::memory_order_relaxed);
    totals.backpressure_ns += tally.backpressure_ns.load(std::memory_order_relaxed);
  }
  return totals;
}

ProgressMeter::ProgressMeter(std::size_t processes)
    : processes_(processes), start_(std::chrono::steady_clock::now()), previous_time_(start_) {}

std::string ProgressMeter::line(const TallyTotals& totals) {
  using programs::format_byte_rate;
  using programs::format_bytes;
  using programs::format_count;
  const auto now = std::chrono::steady_clock::now();
  const double window = std::chrono::duration<double>(now - previous_time_).count();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double byte_rate = window > 0 ? static_cast<double>(totals.bytes - previous_.bytes) / window : 0;
  const double record_rate = window > 0 ? static_cast<double>(totals.records - previous_.records) / window : 0;
  const double waiting = static_cast<double>(totals.backpressure_ns - previous_.backpressure_ns) / 1e9;
  previous_ = totals;
  previous_time_ = now;
  std::string text = "ringfile-producer: ";
  if (processes_ > 1) text += std::to_string(processes_) + " processes, ";
  text += format_count(static_cast<double>(totals.records)) + " records, " +
          format_bytes(static_cast<double>(totals.bytes)) + " in " + programs::format_seconds(elapsed) + " | " +
          format_byte_rate(byte_rate) + ", " + format_count(record_rate) + " records/s";
  // Summed over processes, so it can exceed the window: show it as a share of their time.
  if (window > 0 && waiting > 0) {
    const double share = 100.0 * waiting / (window * static_cast<double>(processes_));
    text += ", waiting for space " + std::to_string(static_cast<int>(share + 0.5)) + "%";
  }
  return text;
}

}  // namespace ringfile::producer
