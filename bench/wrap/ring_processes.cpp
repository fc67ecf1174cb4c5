#include "wrap/ring_processes.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "ringfile/system/clock.hpp"
#include "ringfile/system/process_io.hpp"
#include "wrap/process_counters.hpp"
#include "wrap/record_check.hpp"
#include "wrap/record_stamp.hpp"

namespace ringfile::bench::wrap {

namespace {

using namespace std::chrono_literals;

// Each sleep is bounded, so that a process notices the other side's end or failure; the wake
// from the other side normally comes first.
constexpr std::chrono::milliseconds kWaitSlice = 50ms;
// A reader that makes no progress this long after its writer finished reports itself stuck; a
// baseline writer whose reader has not moved this long gives up (as the ringfile writer's claim
// times out).
constexpr std::uint64_t kReaderGiveUpNs = 10'000'000'000;
constexpr std::uint64_t kWriterGiveUpNs = 30'000'000'000;

// Adds one wait's wall time and the waiting thread's CPU time to `times`.
class TimedWait {
 public:
  explicit TimedWait(ProcessTimes& times)
      : times_(times), wall_start_ns_(system::monotonic_ns()), cpu_start_ns_(thread_cpu_ns()) {}
  ~TimedWait() {
    times_.waited_ns += system::monotonic_ns() - wall_start_ns_;
    times_.wait_cpu_ns += thread_cpu_ns() - cpu_start_ns_;
    ++times_.waits;
  }
  TimedWait(const TimedWait&) = delete;
  TimedWait& operator=(const TimedWait&) = delete;

 private:
  ProcessTimes& times_;
  std::uint64_t wall_start_ns_;
  std::uint64_t cpu_start_ns_;
};

// The baselines' writer, before writing record `record_index`: waits until the reader has read
// every record whose bytes the new one overwrites. false (and `error` set): the reader stopped or
// made no progress for kWriterGiveUpNs.
bool wait_for_reader(RingChannel& channel, const RingSetup& setup, std::uint64_t record_index,
                     ProcessTimes& times, std::string& error) {
  const std::uint64_t record_end = (record_index + 1) * setup.record_bytes;
  if (record_end <= setup.ring_bytes) return true;
  const std::uint64_t needed =
      (record_end - setup.ring_bytes + setup.record_bytes - 1) / setup.record_bytes;
  std::uint64_t consumed = channel.records_consumed.load();
  if (consumed >= needed) return true;
  const TimedWait timed(times);
  std::uint64_t progress_ns = system::monotonic_ns();
  while (consumed < needed) {
    // Acquire: pairs with the reader's release store when it stops.
    if (channel.reader_finished.load(std::memory_order_acquire) != 0) {
      error = "the reader stopped before reading record " + std::to_string(needed - 1);
      return false;
    }
    const std::uint64_t now_consumed = channel.records_consumed.wait_for_at_least(needed, kWaitSlice);
    const std::uint64_t now_ns = system::monotonic_ns();
    if (now_consumed != consumed) {
      consumed = now_consumed;
      progress_ns = now_ns;
    } else if (now_ns - progress_ns > kWriterGiveUpNs) {
      error = "the reader read nothing for 30 s";
      return false;
    }
  }
  return true;
}

[[noreturn]] void writer_exit(WriterReport& report, RingChannel& channel,
                              std::uint64_t records_written, int status) {
  report.records_written = records_written;
  // Release: pairs with the reader's acquire load; everything published before is final.
  channel.writer_finished.store(1, std::memory_order_release);
  channel.records_published.wake_all();
  // _exit: the forked child must not run the parent's atexit handlers or flush its stdio.
  ::_exit(status);
}

[[noreturn]] void reader_exit(ReaderReport& report, RingChannel& channel, const char* error,
                              int status) {
  if (error != nullptr) copy_error(report.error, error);
  // Release: pairs with a waiting baseline writer's acquire load.
  channel.reader_finished.store(1, std::memory_order_release);
  channel.records_consumed.wake_all();
  ::_exit(status);
}

// --reader-pause: sleeps until the writer has published `pause_bytes` of records (or finished),
// then notes what is unread and how much of it is still in memory.
std::uint64_t pause_then_resume(const RingSetup& setup, const RingChannel& channel,
                                const PublishedRecords& published, RingReader& reader,
                                PauseReport& pause) {
  for (;;) {
    // Acquire: pairs with the writer's release store; the count read after it is final.
    const bool finished = channel.writer_finished.load(std::memory_order_acquire) != 0;
    const std::uint64_t records = published.load();
    if (finished || records * setup.record_bytes >= setup.reader_pause_bytes) break;
    published.wait_for_more_than(records, kWaitSlice);
  }
  pause.resumed = true;
  pause.resumed_ns = system::monotonic_ns();
  reader.start_counting_spills();
  pause.at_resume = reader.unread_bytes(published).value_or(UnreadBytes{});
  return published.load();
}

}  // namespace

void run_writer_process(const WriterKind& kind, const RingSetup& setup, std::uint64_t laps,
                        SharedRunState& state, std::size_t ring_index) {
  WriterReport& report = state.writers[ring_index];
  RingChannel& channel = state.channels[ring_index];
  std::unique_ptr<RingWriter> writer;
  try {
    writer = kind.open_writer(setup);
  } catch (const std::exception& failure) {
    copy_error(report.error, failure.what());
    writer_exit(report, channel, 0, kChildSetupFailed);
  }
  std::vector<std::byte> record = record_pattern(setup.record_bytes);
  const bool harness_waits = setup.readers && !kind.ring_holds_writer_back;
  state.start_gate.check_in_and_wait();

  const RunCounters run_counters;
  std::uint64_t records_written = 0;
  std::uint64_t bytes_written = 0;
  for (std::uint64_t lap = 0; lap < laps; ++lap) {
    WriterLapSample& sample = report.laps[lap];
    const system::ProcessIo disk_before = system::own_process_io().value_or(system::ProcessIo{});
    const std::uint64_t faults_before = own_major_faults();
    const std::uint64_t lap_start_bytes = bytes_written;
    sample.start_ns = system::monotonic_ns();
    // A lap is ring_bytes of the ring passed over (records, and for ringfile their frame
    // headers and the padding at the wrap); records do not divide a ring, so laps end
    // mid-record. `bytes_written` counts record bytes only: GB/s is of records.
    while (writer->ring_bytes_advanced() < (lap + 1) * setup.ring_bytes) {
      std::string error;
      if (harness_waits && !wait_for_reader(channel, setup, records_written, report.times, error)) {
        copy_error(report.error, error.c_str());
        writer_exit(report, channel, records_written, kChildRunFailed);
      }
      stamp_record_sequence(record, records_written);
      if (!writer->write(record)) {
        copy_error(report.error, writer->error_message().c_str());
        writer_exit(report, channel, records_written, kChildRunFailed);
      }
      ++records_written;
      bytes_written += record.size();
      channel.records_published.advance_to(records_written);
    }
    sample.end_ns = system::monotonic_ns();
    const system::ProcessIo disk_after = system::own_process_io().value_or(system::ProcessIo{});
    sample.bytes = bytes_written - lap_start_bytes;
    sample.disk_read_bytes = disk_after.read_bytes - disk_before.read_bytes;
    sample.disk_write_bytes = disk_after.write_bytes - disk_before.write_bytes;
    sample.major_faults = own_major_faults() - faults_before;
    state.writers_done_with_lap[lap].fetch_add(1, std::memory_order_release);
  }
  run_counters.finish(report.times);
  const WaitTally inside = writer->waits_inside_write();
  report.times.waited_ns += inside.waited_ns;
  report.times.waits += inside.waits;
  if (inside.cpu_ns) {
    report.times.wait_cpu_ns += *inside.cpu_ns;
  } else if (inside.waits != 0) {
    report.times.wait_cpu_known = false;
  }
  writer_exit(report, channel, records_written, 0);
}

void run_reader_process(const WriterKind& kind, const RingSetup& setup, SharedRunState& state,
                        std::size_t ring_index) {
  ReaderReport& report = state.readers[ring_index];
  RingChannel& channel = state.channels[ring_index];
  std::unique_ptr<RingReader> reader;
  try {
    reader = kind.open_reader(setup);
  } catch (const std::exception& failure) {
    reader_exit(report, channel, failure.what(), kChildSetupFailed);
  }
  const PublishedRecords published(channel.records_published);
  state.start_gate.check_in_and_wait();

  const RunCounters run_counters;
  std::uint64_t catch_up_target = 0;
  std::uint64_t read_bytes_at_resume = 0;
  if (setup.reader_pause_bytes != 0) {
    catch_up_target = pause_then_resume(setup, channel, published, *reader, report.pause);
    read_bytes_at_resume = system::own_process_io().value_or(system::ProcessIo{}).read_bytes;
  }
  ReadProgress progress;
  std::uint64_t idle_since_ns = 0;
  for (;;) {
    // Acquire: pairs with the writer's release store; a count read after it is final.
    const bool writer_finished = channel.writer_finished.load(std::memory_order_acquire) != 0;
    const std::size_t records = reader->poll(published, progress);
    const std::uint64_t handled = progress.handled();
    report.progress = progress;
    channel.records_consumed.advance_to(handled);
    if (records == 0) {
      const std::string error = reader->error_message();
      if (!error.empty()) reader_exit(report, channel, error.c_str(), kChildRunFailed);
    }
    const std::uint64_t published_count = published.load();
    report.max_lag_records =
        std::max(report.max_lag_records, published_count - std::min(handled, published_count));
    if (report.pause.resumed && !report.pause.caught_up && handled >= catch_up_target) {
      report.pause.caught_up = true;
      report.pause.caught_up_ns = system::monotonic_ns();
      report.pause.read_back_bytes =
          system::own_process_io().value_or(system::ProcessIo{}).read_bytes - read_bytes_at_resume;
      report.pause.spilled_later = reader->spilled_since_resume();
    }
    if (records != 0) {
      idle_since_ns = 0;
      continue;
    }
    if (writer_finished && handled >= published_count) break;
    if (writer_finished) {
      const std::uint64_t now_ns = system::monotonic_ns();
      if (idle_since_ns == 0) idle_since_ns = now_ns;
      if (now_ns - idle_since_ns > kReaderGiveUpNs) {
        reader_exit(report, channel, "reader made no progress for 10 s after its writer finished",
                    kChildRunFailed);
      }
    }
    const TimedWait timed(report.times);
    reader->wait(published, handled, kWaitSlice);
  }
  report.bytes_read = progress.records_read * setup.record_bytes;
  report.paging = reader->paging_sample();
  run_counters.finish(report.times);
  reader_exit(report, channel, nullptr, 0);
}

}  // namespace ringfile::bench::wrap
