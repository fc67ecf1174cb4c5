#include "bridge_report.hpp"

#include <algorithm>

#include <cstdio>

#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/throughput.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge {
namespace {

using programs::format_bytes;
using programs::format_count;

std::string counters_text(const BridgeTotals& totals) {
  std::string text = "in flight " + format_count(static_cast<double>(totals.in_flight)) + ", acknowledged " +
                     format_count(static_cast<double>(totals.acknowledged)) + ", retries " +
                     std::to_string(totals.retries);
  if (totals.remote_lag) text += ", stream lag " + format_count(static_cast<double>(*totals.remote_lag)) + " messages";
  if (totals.ring_lag_bytes) text += ", ring lag " + format_bytes(static_cast<double>(*totals.ring_lag_bytes));
  if (totals.lost_records > 0 || totals.lost_bytes > 0) {
    text += ", lost " + std::to_string(totals.lost_records) + " records (" +
            format_bytes(static_cast<double>(totals.lost_bytes)) + ") to lapping";
  }
  return text;
}

}  // namespace

BridgeReporter::BridgeReporter(std::string direction, const ReportSettings& settings)
    : direction_(std::move(direction)),
      settings_(settings),
      line_(!settings.quiet),
      started_(std::chrono::steady_clock::now()),
      last_sample_(started_) {}

void BridgeReporter::show_progress(const BridgeTotals& totals) {
  const auto now = std::chrono::steady_clock::now();
  const double window = std::chrono::duration<double>(now - last_sample_).count();
  const double byte_rate = static_cast<double>(totals.bytes - last_totals_.bytes) / window;
  const double record_rate = static_cast<double>(totals.records - last_totals_.records) / window;
  line_.show(programs::program_name() + " " + direction_ + ": " + format_count(static_cast<double>(totals.records)) +
             " records, " + format_bytes(static_cast<double>(totals.bytes)) + " | " +
             programs::format_byte_rate(byte_rate) + ", " + format_count(record_rate) + " records/s, " +
             counters_text(totals));
  last_sample_ = now;
  last_totals_ = totals;
}

void BridgeReporter::notice(const std::string& text) {
  if (settings_.quiet) return;
  line_.clear();
  std::fputs((programs::program_name() + " " + direction_ + ": " + text + "\n").c_str(), stderr);
  std::fflush(stderr);
}

double idle_seconds_at_stop(const StopSettings& stop, std::chrono::steady_clock::time_point last_activity,
                            std::uint64_t records) {
  if (!stop.until_idle || records == 0) return 0;
  const auto idle = std::chrono::steady_clock::now() - last_activity;
  return idle >= *stop.until_idle ? std::chrono::duration<double>(idle).count() : 0;
}

void BridgeReporter::first_record_done() {
  if (!first_record_done_) first_record_done_ = std::chrono::steady_clock::now();
}

void BridgeReporter::summary(const BridgeTotals& totals, int exit_code) {
  line_.clear();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const programs::Throughput throughput{totals.records, totals.bytes, seconds, std::min(totals.idle_seconds, seconds)};
  if (!settings_.quiet) {
    // out: records read from the ring; what JetStream stored is `acknowledged` (a full stream took
    // 10 of 100 that the line called published: found by a tester).
    const std::string verb = direction_ == "out" ? "read" : "wrote";
    std::fputs((programs::program_name() + " " + direction_ + ": " + programs::describe(throughput, verb) + "; " +
                counters_text(totals) + "\n")
                   .c_str(),
               stderr);
  }
  if (settings_.json) print_json(totals, exit_code, seconds);
}

void BridgeReporter::failure_summary(const BridgeTotals& totals) noexcept {
  try {
    line_.clear();  // the error line then starts a line of its own
    if (!settings_.json) return;
    print_json(totals, programs::kExitFailure,
               std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  } catch (...) {
    // Out of memory building it: the error line on stderr still says what failed.
  }
}

void BridgeReporter::print_json(const BridgeTotals& totals, int exit_code, double seconds) {
  const programs::Throughput throughput{totals.records, totals.bytes, seconds, std::min(totals.idle_seconds, seconds)};
  programs::JsonWriter json;
  json.begin_object().field("direction", direction_);
  programs::write_fields(json, throughput);
  const std::optional<double> startup_seconds =
      first_record_done_ ? std::optional<double>(std::chrono::duration<double>(*first_record_done_ - started_).count())
                         : std::nullopt;
  json.field("startup_seconds", startup_seconds)
      .field("in_flight", totals.in_flight)
      .field("acknowledged", totals.acknowledged)
      .field("retries", totals.retries)
      .field("skipped", totals.skipped)
      .field("remote_lag", totals.remote_lag)
      .field("ring_lag_bytes", totals.ring_lag_bytes)
      .field("lost_records", totals.lost_records)
      .field("lost_bytes", totals.lost_bytes)
      .field("position", totals.position)
      .field("exit_code", exit_code)
      .end_object();
  std::printf("%s\n", json.text().c_str());
  std::fflush(stdout);
}

}  // namespace ringfile::bridge
