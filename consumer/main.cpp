// ringfile-consumer: reads every record of a ring, in order. See `ringfile-consumer --help`.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>

#include "consumer_admin.hpp"
#include "consumer_settings.hpp"
#include "read_loop.hpp"
#include "record_sink.hpp"
#include "ringfile/error.hpp"
#include "ringfile/programs/fault_signals.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/throughput.hpp"
#include "ringfile/programs/units.hpp"
#include "verification.hpp"

namespace ringfile::consumer {
namespace {

ConsumerOptions consumer_options(const ConsumerSettings& settings) {
  ConsumerOptions options;
  options.name = settings.name;
  options.start = settings.start;
  options.seek = settings.seek;
  options.holds_back = settings.holds_back;
  options.expire_after = settings.expire_after;
  options.auto_commit = false;  // read_records commits once the output is written
  return options;
}

// A tap (--no-hold, no --name) needs no write access: without it, it reads the ring through a
// read-only mapping and takes no consumer slot.
Ring open_ring(const ConsumerSettings& settings) {
  try {
    return Ring::open(settings.path);
  } catch (const Error& error) {
    if (error.code() != ErrorCode::permission_denied) throw;
    // What this consumer writes in the file, and the way to read without writing; a tap writes
    // nothing, and reads the ring read-only below.
    const char* const needs_write = !settings.name.empty()
                                        ? " (a named consumer keeps its cursor in the file; an anonymous one with "
                                          "--no-hold reads with read access alone)"
                                    : settings.holds_back
                                        ? " (a consumer that holds producers back takes a slot in the file; with "
                                          "--no-hold it reads with read access alone)"
                                        : nullptr;
    if (needs_write != nullptr) throw programs::RuntimeFailure(error.what() + std::string(needs_write));
  }
  Ring ring = Ring::open(settings.path, OpenOptions{.read_only = true});
  if (!settings.quiet) {
    std::fputs((programs::program_name() + ": no write access to '" + settings.path.string() +
                "': tapping it read-only, without a consumer slot (not listed by ringfile-status)\n")
                   .c_str(),
               stderr);
  }
  return ring;
}

// A tap (anonymous, --no-hold) that finds every consumer slot taken reads without one, as on a
// ring it may not write: it needs none, and an operator must be able to look at a full ring.
Consumer attach_consumer(Ring& ring, const ConsumerSettings& settings) {
  try {
    return Consumer::attach(ring, consumer_options(settings));
  } catch (const Error& error) {
    if (error.code() != ErrorCode::table_full || !settings.name.empty() || settings.holds_back) throw;
  }
  ring = Ring::open(settings.path, OpenOptions{.read_only = true});
  if (!settings.quiet) {
    std::fputs((programs::program_name() + ": every consumer slot of '" + settings.path.string() +
                "' is taken: tapping it read-only, without a slot (not listed by ringfile-status)\n")
                   .c_str(),
               stderr);
  }
  return Consumer::attach(ring, consumer_options(settings));
}

struct RunReport {
  ReadTotals totals;
  std::uint64_t position = 0;
  std::uint64_t lost_records = 0;
  std::uint64_t lost_bytes = 0;
  std::optional<VerificationOutcome> verification;
  std::uint64_t records_split_over_lines = 0;  // RecordSink::records_split_over_lines
  bool may_be_lapped = false;  // overwrite policy, or --no-hold: its losses may be lapping's
  int exit_code = programs::kExitSuccess;
};

// What a loss cost, and to what (loss_cause): records counted by their producers' sequence
// numbers, and the bytes skipped. A loss before the first record seen of a producer has no
// count: then only the bytes are known.
std::string describe_loss(std::uint64_t lost_records, std::uint64_t lost_bytes, const std::string& cause) {
  const std::string bytes = programs::format_bytes(static_cast<double>(lost_bytes));
  if (lost_records == 0) {
    return "lost " + bytes + " of records " +
           (cause == "lapping" ? "overwritten before they were read" : "to " + cause) + " (how many is unknown)";
  }
  return "lost " + std::to_string(lost_records) + " records (" + bytes + ") to " + cause;
}

programs::Throughput throughput_of(const ReadTotals& totals) {
  return {totals.records, totals.bytes, totals.seconds, totals.idle_seconds, totals.waiting_seconds};
}

void print_json(const RunReport& report) {
  const programs::Throughput throughput = throughput_of(report.totals);
  programs::JsonWriter json;
  json.begin_object();
  programs::write_fields(json, throughput);
  json.field("position", report.position)
      .field("reached_until", report.totals.reached_until)
      .field("lost_records", lost_record_count(report.lost_records, report.lost_bytes))
      .field("lost_bytes", report.lost_bytes)
      .field("damaged_skipped", report.totals.damaged_skipped)
      .field("exit_code", report.exit_code);
  if (report.verification) {
    json.key("verify");
    report.verification->write_json(json);
  }
  json.end_object();
  std::printf("%s\n", json.text().c_str());
  std::fflush(stdout);
}

// The --json summary of a run that a ring truncated under it ends in the SIGBUS handler
// (fault_signals.hpp), which leaves no way back to print_json: the same fields, written from the
// consumer's and the verifier's counts with write(2) only. Set up before the read loop, read only
// by the handler, which runs on the reading thread (the counts of a poll under way are not in
// them yet).
struct SummaryAtFault {
  const Consumer* consumer = nullptr;
  const ReadTotals* totals = nullptr;  // what the read loop counted (damaged stretches skipped)
  VerificationInputs verification;
  std::uint64_t started_ns = 0;  // programs::monotonic_now_ns()
};
SummaryAtFault g_summary_at_fault;

void print_json_at_fault() noexcept {
  const SummaryAtFault& summary = g_summary_at_fault;
  if (summary.consumer == nullptr) return;
  const ConsumerStats& stats = summary.consumer->stats();
  const ConsumerStats& at_attach = summary.verification.at_attach;
  const std::uint64_t records = stats.records - at_attach.records;
  const std::uint64_t bytes = stats.bytes - at_attach.bytes;
  const std::uint64_t lost_records = stats.lost_records - at_attach.lost_records;
  const std::uint64_t lost_bytes = stats.lost_bytes - at_attach.lost_bytes;
  programs::SignalSafeLine json;
  programs::open_run_summary(json, records, bytes, summary.started_ns);
  json.text(",\"position\":").count(summary.consumer->position()).text(",\"reached_until\":false");
  json.text(",\"lost_records\":");
  write_lost_record_count(json, lost_records, lost_bytes);
  json.text(",\"lost_bytes\":").count(lost_bytes);
  json.text(",\"damaged_skipped\":").count(summary.totals->damaged_skipped);
  json.text(",\"exit_code\":").count(programs::kExitFailure);
  if (summary.verification.verifier != nullptr) {
    json.text(",\"verify\":");
    verification_of(summary.verification, stats, summary.totals->damaged_skipped).write_json(json);
  }
  json.text("}\n");
  json.write_to(STDOUT_FILENO);
}

// Set for a run with --json, from before the read loop until the consumer has detached (a
// truncation met there ends the run as well).
class SummaryAtFaultInForce {
 public:
  SummaryAtFaultInForce(bool json, const SummaryAtFault& summary) : json_(json) {
    if (!json_) return;
    g_summary_at_fault = summary;
    std::fflush(stdout);  // nothing of stdio's left for the handler's write(2) to overtake
    programs::set_truncation_epilogue(print_json_at_fault);
  }
  ~SummaryAtFaultInForce() { end(); }
  SummaryAtFaultInForce(const SummaryAtFaultInForce&) = delete;
  SummaryAtFaultInForce& operator=(const SummaryAtFaultInForce&) = delete;
  void end() noexcept {
    if (!json_) return;
    programs::set_truncation_epilogue(nullptr);
    g_summary_at_fault = {};
    json_ = false;
  }

 private:
  bool json_;
};

void print_report(const ConsumerSettings& settings, const RunReport& report) {
  const programs::Throughput throughput = throughput_of(report.totals);
  if (!settings.quiet) {
    const std::string who = settings.name.empty() ? "" : "'" + settings.name + "' ";
    std::string line = programs::program_name() + ": " + who + programs::describe(throughput, "read") +
                       "; cursor at " + std::to_string(report.position);
    if (report.totals.reached_until) line += " (before the first record of --until)";
    if (report.lost_records > 0 || report.lost_bytes > 0) {
      line += "; " + describe_loss(report.lost_records, report.lost_bytes,
                                   loss_cause(report.may_be_lapped, report.totals.damaged_skipped));
    }
    std::fputs((line + "\n").c_str(), stderr);
    if (report.verification && report.verification->ok()) {
      std::fputs((programs::program_name() + ": " + report.verification->describe() + "\n").c_str(), stderr);
    }
    if (report.records_split_over_lines > 0) {
      const std::uint64_t split = report.records_split_over_lines;
      std::fputs((programs::program_name() + ": " + programs::count_of(split, "record") +
                  " held a newline and went out as more than one line; --format frames or jsonl keeps every "
                  "record whole\n")
                     .c_str(),
                 stderr);
    }
  }
  if (report.verification && !report.verification->ok()) programs::report_error(report.verification->describe());
  if (settings.json) print_json(report);
}

int run(int argc, char** argv) {
  auto parsed = parse_consumer_settings(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const ConsumerSettings& settings = std::get<ConsumerSettings>(parsed);
  if (settings.action != Action::read) return manage_consumers(settings);
  programs::install_stop_handlers();

  Ring ring = open_ring(settings);
  // The output first: a file that cannot be written should not take a consumer slot.
  std::optional<RecordSink> sink;
  if (!settings.discard) {
    // Only where producers cannot overwrite what the consumer has not committed: a cut-back must
    // never take records that are nowhere else any more (found in review).
    std::optional<ResumeOwner> resume_owner;
    if (!settings.name.empty() && settings.holds_back && ring.info().policy == WriterPolicy::block) {
      resume_owner = ResumeOwner{ring.info().creation_time_ns, settings.name};
    }
    sink.emplace(settings.output, settings.append, settings.format, settings.show_template, &ring,
                 std::move(resume_owner));
  }
  std::optional<SyntheticVerifier> verifier;
  if (settings.verify) verifier.emplace();

  Consumer consumer = attach_consumer(ring, settings);
  if (consumer.name_expired()) {
    // Said even with --quiet, as every warning is: the records it did not come back for are
    // counted nowhere (found by a tester, who saw "read 0 records" and exit 0).
    programs::report_error("warning: consumer '" + settings.name +
                           "' had expired (not seen for longer than its --expire-after), so it starts afresh, "
                           "not at its saved cursor: records written while it was away are not read");
  }
  if (sink) {
    if (const std::uint64_t cut = sink->resume_at(consumer.position()); cut > 0 && !settings.quiet) {
      std::fputs((programs::program_name() + ": its last run was stopped after writing " + std::to_string(cut) +
                  " bytes of records to " + (settings.output == "-" ? "stdout" : "'" + settings.output + "'") +
                  " past its saved cursor; cut them off, to be written once again from the cursor\n")
                     .c_str(),
                 stderr);
    }
  }
  // A resumed named consumer carries its earlier losses; report this run's, those found at
  // attach included (a saved cursor overwritten since the last run).
  const ConsumerStats at_attach = consumer.carried_stats();
  VerificationInputs verification{verifier ? &*verifier : nullptr, at_attach, consumer.stats(),
                                  ring.info().policy == WriterPolicy::overwrite || !settings.holds_back,
                                  settings.skip_damaged};

  RunReport report;
  // Where the consumer stands and what this run lost, after the read loop however it ended.
  const auto note_position_and_losses = [&] {
    report.position = consumer.position();
    report.lost_records = consumer.stats().lost_records - at_attach.lost_records;
    report.lost_bytes = consumer.stats().lost_bytes - at_attach.lost_bytes;
  };
  const auto started = std::chrono::steady_clock::now();
  SummaryAtFaultInForce summary_at_fault(settings.json,
                                         {&consumer, &report.totals, verification, programs::monotonic_now_ns()});
  try {
    read_records(settings, consumer, sink ? &*sink : nullptr, verifier ? &*verifier : nullptr, report.totals);
  } catch (const std::exception&) {
    summary_at_fault.end();
    // A machine reading stdout learns what was read before the failure, and that it failed;
    // the error line follows on stderr.
    if (settings.json) {
      report.totals.records = consumer.stats().records - at_attach.records;
      report.totals.bytes = consumer.stats().bytes - at_attach.bytes;
      report.totals.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      note_position_and_losses();
      report.exit_code = programs::kExitFailure;
      if (verifier) report.verification = verification_of(verification, consumer.stats(), report.totals.damaged_skipped);
      print_json(report);
    }
    throw;
  }
  note_position_and_losses();
  consumer.detach();
  summary_at_fault.end();
  if (sink) report.records_split_over_lines = sink->records_split_over_lines();

  report.may_be_lapped = verification.may_be_lapped;
  if (verifier) {
    report.verification = verification_of(verification, consumer.stats(), report.totals.damaged_skipped);
    if (!report.verification->ok()) report.exit_code = programs::kExitFailure;
  }
  print_report(settings, report);
  return report.exit_code;
}

}  // namespace
}  // namespace ringfile::consumer

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-consumer", [&] { return ringfile::consumer::run(argc, argv); });
}
