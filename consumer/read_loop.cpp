#include "read_loop.hpp"

#include <unistd.h>

#include <algorithm>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::consumer {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatchRecords = 1024;
// How long one wait lasts before the loop looks at signals and limits again.
constexpr std::chrono::milliseconds kWaitSlice{100};

// Hands each polled record to the sink and the verifier.
struct RecordHandler {
  RecordSink* sink;
  SyntheticVerifier* verifier;
  std::uint64_t bytes = 0;

  void operator()(const Record& record) {
    if (sink != nullptr) sink->write(record.payload);
    if (verifier != nullptr) verifier->check(record.payload);
    bytes += record.payload.size();
  }
};

class CommitSchedule {
 public:
  explicit CommitSchedule(const ConsumerSettings& settings) : settings_(settings), last_(Clock::now()) {}

  bool due(std::uint64_t records_since_commit, Clock::time_point now) const {
    if (settings_.commit_every_records) return records_since_commit >= *settings_.commit_every_records;
    if (settings_.commit_every_time) return now - last_ >= *settings_.commit_every_time;
    return true;  // after every batch
  }
  void committed(Clock::time_point now) { last_ = now; }

 private:
  const ConsumerSettings& settings_;
  Clock::time_point last_;
};

std::string progress_text(const ReadTotals& totals, double byte_rate, double record_rate, const Lag& lag) {
  std::string text = "ringfile-consumer: " + programs::format_count(static_cast<double>(totals.records)) +
                     " records, " + programs::format_bytes(static_cast<double>(totals.bytes)) + " | " +
                     programs::format_byte_rate(byte_rate) + ", " + programs::format_count(record_rate) +
                     " records/s, lag " + programs::format_bytes(static_cast<double>(lag.bytes));
  if (lag.seconds) text += " (" + programs::format_seconds(*lag.seconds) + ")";
  return text;
}

}  // namespace

ReadTotals read_records(const ConsumerSettings& settings, Consumer& consumer, RecordSink* sink,
                        SyntheticVerifier* verifier) {
  const Clock::time_point started = Clock::now();
  Clock::time_point last_record_at = started;
  CommitSchedule commits(settings);
  std::uint64_t records_since_commit = 0;
  ReadTotals totals;
  RecordHandler handler{sink, verifier};

  // Records printed on the terminal and a progress line rewritten among them would garble both.
  const bool records_on_terminal = !settings.discard && settings.output == "-" && programs::is_terminal(STDOUT_FILENO);
  programs::ProgressLine progress(!settings.quiet && !records_on_terminal);
  Clock::time_point progress_time = started;
  ReadTotals progress_totals;

  const auto commit = [&](Clock::time_point now) {
    consumer.commit();
    commits.committed(now);
    records_since_commit = 0;
  };

  while (!programs::stop_requested()) {
    if (settings.count && totals.records >= *settings.count) break;
    Clock::time_point now = Clock::now();
    if (settings.duration && now - started >= *settings.duration) break;

    const std::size_t wanted =
        settings.count ? static_cast<std::size_t>(std::min<std::uint64_t>(kBatchRecords, *settings.count - totals.records))
                       : kBatchRecords;
    const PollResult polled = consumer.poll(handler, wanted);
    totals.records += polled.records;
    totals.bytes = handler.bytes;
    // Written out before any commit: a saved cursor never passes records not yet delivered.
    if (sink != nullptr && polled.records > 0) sink->flush();
    if (polled.status == PollStatus::corrupt) {
      if (!settings.skip_damaged) throw programs::RuntimeFailure(consumer.error_message());
      programs::report_error(consumer.error_message() + " (skipped)");  // the next poll reads on past it
      continue;
    }

    now = Clock::now();
    if (polled.records > 0) {
      last_record_at = now;
      records_since_commit += polled.records;
      if (commits.due(records_since_commit, now)) commit(now);
    } else {
      // Caught up: save the cursor now, so that an idle reader holds nobody back.
      if (records_since_commit > 0) commit(now);
      if (settings.until_idle && now - last_record_at >= *settings.until_idle) break;
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(kWaitSlice);
      if (settings.until_idle) wait = std::min(wait, *settings.until_idle - (now - last_record_at));
      if (settings.duration) wait = std::min(wait, *settings.duration - (now - started));
      consumer.wait(std::max(wait, std::chrono::nanoseconds::zero()));
    }

    if (progress.due()) {
      const double window = std::chrono::duration<double>(now - progress_time).count();
      const double byte_rate = static_cast<double>(totals.bytes - progress_totals.bytes) / window;
      const double record_rate = static_cast<double>(totals.records - progress_totals.records) / window;
      progress.show(progress_text(totals, byte_rate, record_rate, consumer.lag()));
      progress_time = now;
      progress_totals = totals;
    }
  }
  progress.clear();
  if (sink != nullptr) sink->flush();
  consumer.commit();
  totals.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return totals;
}

}  // namespace ringfile::consumer
