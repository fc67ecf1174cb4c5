// ringfile-producer: writes records into ring files. See `ringfile-producer --help` and README.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <exception>

#include "produce_loop.hpp"
#include "producer_settings.hpp"
#include "ring_setup.hpp"
#include "ringfile/programs/fault_signals.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/throughput.hpp"
#include "worker_group.hpp"

namespace ringfile::producer {
namespace {

void print_json(const ProducerSettings& settings, const GroupResult& result) {
  const programs::Throughput throughput{result.totals.records, result.totals.bytes, result.seconds};
  programs::JsonWriter json;
  json.begin_object();
  programs::write_fields(json, throughput);
  json.field("backpressure_seconds", static_cast<double>(result.totals.backpressure_ns) / 1e9)
      .field("processes", settings.process_count())
      .field("exit_code", result.exit_code)
      .end_object();
  std::printf("%s\n", json.text().c_str());
  std::fflush(stdout);
}

// The --json summary of a single-process run that a ring truncated under it ends in the SIGBUS
// handler (fault_signals.hpp), which leaves no way back to print_json: the same fields, written
// from the tally with write(2) only. Set up before the run, read only by the handler.
struct SummaryAtFault {
  const ProducerTally* tally = nullptr;
  std::uint64_t started_ns = 0;  // programs::monotonic_now_ns()
};
SummaryAtFault g_summary_at_fault;

void print_json_at_fault() noexcept {
  const SummaryAtFault& summary = g_summary_at_fault;
  if (summary.tally == nullptr) return;
  // Relaxed: counts this thread stored itself (the handler runs on the faulting thread).
  const std::uint64_t records = summary.tally->records.load(std::memory_order_relaxed);
  const std::uint64_t bytes = summary.tally->bytes.load(std::memory_order_relaxed);
  const std::uint64_t backpressure_ns = summary.tally->backpressure_ns.load(std::memory_order_relaxed);
  programs::SignalSafeLine json;
  programs::open_run_summary(json, records, bytes, summary.started_ns);
  json.text(",\"backpressure_seconds\":").decimal(static_cast<double>(backpressure_ns) / 1e9);
  json.text(",\"processes\":1,\"exit_code\":").count(programs::kExitFailure).text("}\n");
  json.write_to(STDOUT_FILENO);
}

void report(const ProducerSettings& settings, const GroupResult& result) {
  const programs::Throughput throughput{result.totals.records, result.totals.bytes, result.seconds};
  const double backpressure_seconds = static_cast<double>(result.totals.backpressure_ns) / 1e9;
  if (!settings.quiet) {
    std::string line = programs::program_name() + ": " + programs::describe(throughput, "wrote");
    if (settings.process_count() > 1) line += " from " + std::to_string(settings.process_count()) + " processes";
    if (backpressure_seconds > 0) line += "; waited " + programs::format_seconds(backpressure_seconds) + " for space";
    line += "\n";
    std::fputs(line.c_str(), stderr);
  }
  if (settings.json) print_json(settings, result);
}

int run(int argc, char** argv) {
  auto parsed = parse_producer_settings(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const ProducerSettings& settings = std::get<ProducerSettings>(parsed);
  programs::install_stop_handlers();

  // Create or open every ring first: all setup errors show before anything is written, and the
  // producer processes find their rings in place.
  GroupResult result;
  if (settings.process_count() == 1) {
    const Ring ring = open_ring_for_writing(settings, settings.paths.front());
    check_record_sizes_fit(settings, ring);
    ProducerTally tally;
    programs::ProgressLine progress(!settings.quiet);
    const auto started = std::chrono::steady_clock::now();
    const auto finish = [&] {
      progress.clear();
      result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      result.totals = sum(std::span<const ProducerTally>(&tally, 1));
    };
    if (settings.json) {
      g_summary_at_fault = {&tally, programs::monotonic_now_ns()};
      std::fflush(stdout);  // nothing of stdio's left for the handler's write(2) to overtake
      programs::set_truncation_epilogue(print_json_at_fault);
    }
    try {
      result.exit_code = produce(settings, ring, tally, &progress);
      programs::set_truncation_epilogue(nullptr);  // the tally goes out of scope below
    } catch (const std::exception&) {
      programs::set_truncation_epilogue(nullptr);
      // A machine reading stdout learns what was written before the failure, and that it
      // failed; the error line follows on stderr.
      if (settings.json) {
        finish();
        result.exit_code = programs::kExitFailure;
        print_json(settings, result);
      }
      throw;
    }
    finish();
  } else {
    for (const auto& path : settings.paths) {
      const Ring ring = open_ring_for_writing(settings, path);
      check_record_sizes_fit(settings, ring);
    }
    result = run_producer_processes(settings);
  }
  report(settings, result);
  return result.exit_code;
}

}  // namespace
}  // namespace ringfile::producer

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-producer", [&] { return ringfile::producer::run(argc, argv); });
}
