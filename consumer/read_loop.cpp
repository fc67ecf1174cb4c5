#include "read_loop.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/time_points.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/system/clock.hpp"
#include "ringfile/truncated_rings.hpp"

namespace ringfile::consumer {
namespace {

using Clock = std::chrono::steady_clock;

// The loop's clock: steady_clock's CLOCK_MONOTONIC at the resolution of the scheduler's tick. The
// loop reads it twice per poll, and a precise reading costs as much as polling a small record;
// what it times (limits, idleness, commit intervals, progress) is milliseconds apart or more.
Clock::time_point loop_now() noexcept {
  return Clock::time_point(std::chrono::duration_cast<Clock::duration>(
      std::chrono::nanoseconds(system::coarse_monotonic_ns())));
}

std::uint64_t realtime_now_ns() {
  return programs::nanoseconds_since_epoch(std::chrono::system_clock::now());
}

constexpr std::size_t kBatchRecords = 1024;
// How long one wait lasts before the loop looks at signals and limits again.
constexpr std::chrono::milliseconds kWaitSlice{100};
// How often a waiting reader looks whether its ring's path still names the file it reads.
constexpr std::chrono::seconds kPathCheckInterval{1};

// Says once that the path now names another file, or none: the ring was removed, or another
// created in its place, and this reader goes on with the old file, which no producer that starts
// now can reach (found by a tester: it followed a deleted ring without a word).
class ReplacedRingWarning {
 public:
  void check(const Consumer& consumer, Clock::time_point now) {
    if (said_ || now < next_check_) return;
    next_check_ = now + kPathCheckInterval;
    if (consumer.ring().path_names_this_file()) return;
    // Only a path that names nothing or another file says so; one that cannot be looked at (a
    // directory closed to this user, say) says nothing either way.
    const std::filesystem::path& path = consumer.ring().info().path;
    struct stat named {};
    if (::stat(path.c_str(), &named) != 0 && errno != ENOENT) return;
    said_ = true;
    programs::report_error("warning: '" + path.string() +
                           "' no longer names the ring this consumer reads (removed, or another created in its "
                           "place); it reads on in the old file, which producers that start now cannot reach: "
                           "restart it to read the ring there now");
  }

 private:
  bool said_ = false;
  Clock::time_point next_check_{};
};

// Hands each polled record to the sink and the verifier; leaves unread the first one committed
// at --until or later, and skips those committed before --from TIME (a time still to come when
// the consumer attached: it started at the head).
struct RecordHandler {
  RecordSink* sink;
  SyntheticVerifier* verifier;
  std::optional<std::uint64_t> until_ns;
  std::optional<std::uint64_t> from_ns;
  std::uint64_t bytes = 0;
  std::uint64_t skipped = 0;
  bool reached_until = false;

  bool operator()(const Record& record) {
    if (until_ns && record.timestamp_ns >= *until_ns) {
      reached_until = true;
      return false;
    }
    if (from_ns) {
      if (record.timestamp_ns < *from_ns) {
        ++skipped;
        return true;
      }
      from_ns.reset();  // from here on in the order of the ring, whatever the timestamps
    }
    if (sink != nullptr) sink->write(record);
    if (verifier != nullptr) verifier->check(record.payload);
    bytes += record.payload.size();
    return true;
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

void read_records(const ConsumerSettings& settings, Consumer& consumer, RecordSink* sink,
                  SyntheticVerifier* verifier, ReadTotals& totals) {
  const Clock::time_point started = Clock::now();
  // Since when the reader has been caught up (no record at its last poll): --until-idle counts
  // from there, and the summary's rate leaves that wait out.
  Clock::time_point idle_since = started;
  bool reading = false;
  bool waited_before_first = false;  // no record at the first poll: the wait is not reading
  CommitSchedule commits(settings);
  std::uint64_t records_since_commit = 0;
  totals = ReadTotals{};
  RecordHandler handler{sink, verifier, settings.until_time_ns, settings.from_time_ns};
  ReplacedRingWarning replaced_ring;

  // Records printed on the terminal and a progress line rewritten among them would garble both.
  const bool records_on_terminal = !settings.discard && settings.output == "-" && programs::is_terminal(STDOUT_FILENO);
  programs::ProgressLine progress(!settings.quiet && !records_on_terminal);
  Clock::time_point progress_time = started;
  ReadTotals progress_totals;

  // The cursor committed, then its place on the output noted (record_sink.hpp): in that order,
  // a run killed between the two leaves nothing to cut back (output_resume_point.hpp).
  const auto commit_cursor = [&] {
    consumer.commit();
    if (sink != nullptr) sink->note_committed(consumer.position());
  };
  const auto commit = [&](Clock::time_point now) {
    commit_cursor();
    commits.committed(now);
    records_since_commit = 0;
  };
  // Writes out the records polled since `before`. Where that fails the cursor is saved at
  // `before`, where the sink cut its output back to: the next run of a named consumer appends
  // those records once, whole, neither twice nor torn.
  const auto flush_polled = [&](std::uint64_t before) {
    try {
      sink->flush();
    } catch (const programs::RuntimeFailure&) {
      if (consumer.commit(before)) sink->note_committed(before);
      throw;
    }
  };

  while (!programs::stop_requested()) {
    if (settings.count && totals.records >= *settings.count) break;
    Clock::time_point now = loop_now();
    if (settings.duration && now - started >= *settings.duration) break;

    const std::size_t wanted =
        settings.count ? static_cast<std::size_t>(std::min<std::uint64_t>(kBatchRecords, *settings.count - totals.records))
                       : kBatchRecords;
    const std::uint64_t skipped_before = handler.skipped;
    const std::uint64_t before_poll = consumer.position();
    // Until the first record: the wait for it ends as this poll starts (precise, and only then).
    const Clock::time_point poll_started = totals.records == 0 && waited_before_first ? Clock::now() : now;
    const PollResult polled = consumer.poll(handler, wanted);
    totals.records += polled.records - (handler.skipped - skipped_before);
    totals.bytes = handler.bytes;
    // Written out before any commit: a saved cursor never passes records not yet delivered.
    if (sink != nullptr && polled.records > 0) flush_polled(before_poll);
    if (handler.reached_until) {
      totals.reached_until = true;
      break;
    }
    if (polled.status == PollStatus::corrupt) {
      if (!settings.skip_damaged) throw programs::RuntimeFailure(polled.error_message);
      programs::report_error(polled.error_message + " (skipped)");  // the next poll reads on past it
      totals.damaged_skipped += 1;
      continue;
    }

    if (polled.records > 0) {
      now = loop_now();
      // The wait before the first record is no part of the reading (it ended at this poll).
      if (totals.records == polled.records && waited_before_first) {
        totals.waiting_seconds = std::chrono::duration<double>(poll_started - started).count();
      }
      reading = true;
      records_since_commit += polled.records;
      if (commits.due(records_since_commit, now)) commit(now);
    } else {
      // About to wait, where a precise reading costs nothing.
      now = Clock::now();
      if (reading) {
        reading = false;
        idle_since = now;
      }
      if (totals.records == 0) waited_before_first = true;
      // Caught up: save the cursor now, so that an idle reader holds nobody back.
      if (records_since_commit > 0) commit(now);
      // A ring cut short past the head raises no SIGBUS in a reader waiting there: it would wait
      // for ever for records no producer can write. One fstat per wait.
      if (char truncated[512]; describe_truncated_ring(truncated, sizeof truncated)) {
        throw programs::RuntimeFailure(truncated);
      }
      replaced_ring.check(consumer, now);
      // Whatever is committed from now on is at --until or later.
      if (settings.until_time_ns && realtime_now_ns() >= *settings.until_time_ns) {
        totals.reached_until = true;
        break;
      }
      // Records below the head that a poll cannot hand out yet wait behind a claim not yet
      // committed, or a hole the library calls damage after the unblock timeout: not idle (found
      // by testers: --until-idle shorter than that timeout ended in success with them unread).
      if (settings.until_idle && consumer.position() < consumer.ring().head_position()) idle_since = now;
      if (settings.until_idle && now - idle_since >= *settings.until_idle) break;
      auto wait = std::chrono::duration_cast<std::chrono::nanoseconds>(kWaitSlice);
      if (settings.until_idle) wait = std::min(wait, *settings.until_idle - (now - idle_since));
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
  if (sink != nullptr) flush_polled(consumer.position());  // nothing polled is left unwritten by now
  commit_cursor();
  if (sink != nullptr) sink->finish();
  const Clock::time_point ended = Clock::now();
  totals.seconds = std::chrono::duration<double>(ended - started).count();
  // Stopped by --until-idle: the wait for records that did not come is not reading.
  if (settings.until_idle && !reading && ended - idle_since >= *settings.until_idle && totals.records > 0) {
    totals.idle_seconds = std::chrono::duration<double>(ended - idle_since).count();
  }
}

}  // namespace ringfile::consumer
