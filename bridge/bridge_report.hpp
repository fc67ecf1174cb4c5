// What both directions of the bridge report: a progress line about once a second on a terminal,
// one-line notices (once per event, never once per record), and a summary line or JSON at the end.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "bridge_settings.hpp"
#include "ringfile/programs/progress_line.hpp"

namespace ringfile::bridge {

struct BridgeTotals {
  std::uint64_t records = 0;       // out: read from the ring and published; in: written to the ring
  std::uint64_t bytes = 0;         // their payload bytes
  std::uint64_t in_flight = 0;     // out: published, not yet acknowledged; in: fetched, not yet acknowledged
  std::uint64_t acknowledged = 0;  // out: acknowledged by JetStream; in: acknowledged to JetStream
  std::uint64_t retries = 0;       // out: records sent again; in: rewinds of the durable consumer
  std::uint64_t skipped = 0;       // out: already in the stream at start; in: redeliveries already written
  std::optional<std::uint64_t> remote_lag;  // in: messages JetStream still holds for the durable
  std::optional<std::uint64_t> ring_lag_bytes;  // out: bytes of the ring not yet read
  std::uint64_t lost_records = 0;  // out: lost to lapping before they were read
  std::uint64_t lost_bytes = 0;
  std::uint64_t position = 0;      // out: the ring cursor; in: the last stream sequence written
  // Stopped by --until-idle: the wait at the end for what did not come, left out of the rates.
  double idle_seconds = 0;
};

// BridgeTotals::idle_seconds of a run stopped now: since `last_activity` (the last record read or
// message fetched) where --until-idle ended it and something went through; else 0.
double idle_seconds_at_stop(const StopSettings& stop, std::chrono::steady_clock::time_point last_activity,
                            std::uint64_t records);

class BridgeReporter {
 public:
  BridgeReporter(std::string direction, const ReportSettings& settings);

  // True about once a second when the progress line is shown; cheap to ask on every iteration.
  bool progress_due() { return line_.due(); }
  void show_progress(const BridgeTotals& totals);
  // A line on stderr that stays (unless --quiet), e.g. "JetStream unreachable; retrying".
  void notice(const std::string& text);
  // The first record went through (out: acknowledged; in: written): start-up ends here. The
  // JSON reports it as `startup_seconds`, so that steady rates can be told from start-up.
  void first_record_done();
  // The summary line on stderr (unless --quiet) and the JSON document on stdout (with --json).
  void summary(const BridgeTotals& totals, int exit_code);
  // A run that fails once started: the JSON document (with --json) with exit_code 1, so that a
  // machine reading stdout learns what was done before; the error line follows on stderr.
  void failure_summary(const BridgeTotals& totals) noexcept;

 private:
  void print_json(const BridgeTotals& totals, int exit_code, double seconds);

  std::string direction_;
  ReportSettings settings_;
  programs::ProgressLine line_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_sample_;
  std::optional<std::chrono::steady_clock::time_point> first_record_done_;
  BridgeTotals last_totals_;
};

}  // namespace ringfile::bridge
