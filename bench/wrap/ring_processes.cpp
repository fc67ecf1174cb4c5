#include "wrap/ring_processes.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "support/clock.hpp"
#include "wrap/process_counters.hpp"
#include "wrap/record_stamp.hpp"

namespace ringfile::bench::wrap {

namespace {

// Short enough that a reader "follows closely" (at 1 GB/s it is 200 KB behind), long enough
// that 8 idle readers do not take a core from the writers on a 2-core machine.
constexpr useconds_t kReaderIdleSleepMicros = 200;
constexpr useconds_t kStartGatePollMicros = 100;
// A reader that makes no progress this long after its writer finished reports itself stuck.
constexpr std::uint64_t kReaderGiveUpNs = 10'000'000'000;

void copy_error(char (&destination)[kErrorTextBytes], const char* message) {
  std::strncpy(destination, message, kErrorTextBytes - 1);
  destination[kErrorTextBytes - 1] = '\0';
}

void wait_for_start(const SharedRunState& state) {
  while (state.start_gate.load(std::memory_order_acquire) == 0) ::usleep(kStartGatePollMicros);
}

// Not zeros: a page of zeros could be mistaken for the zero-filled page of an unwritten extent.
void fill_record_pattern(std::vector<std::byte>& record) {
  for (std::size_t index = 0; index < record.size(); ++index) {
    record[index] = static_cast<std::byte>((index * 131 + 17) & 0xff);
  }
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
    channel.writer_finished.store(1, std::memory_order_release);
    ::_exit(kChildSetupFailed);
  }
  std::vector<std::byte> record(setup.record_bytes);
  fill_record_pattern(record);
  wait_for_start(state);

  std::uint64_t records_written = 0;
  std::uint64_t bytes_written = 0;
  for (std::uint64_t lap = 0; lap < laps; ++lap) {
    WriterLapSample& sample = report.laps[lap];
    const ProcessDiskBytes disk_before = own_disk_bytes().value_or(ProcessDiskBytes{});
    const std::uint64_t faults_before = own_major_faults();
    const std::uint64_t lap_start_bytes = bytes_written;
    sample.start_ns = monotonic_ns();
    // A lap is ring_bytes of the ring passed over (records, and for ringfile their frame
    // headers and the padding at the wrap); records do not divide a ring, so laps end
    // mid-record. `bytes_written` counts record bytes only: GB/s is of records.
    while (writer->ring_bytes_advanced() < (lap + 1) * setup.ring_bytes) {
      stamp_record_sequence(record, records_written);
      if (!writer->write(record)) {
        copy_error(report.error, writer->error_message().c_str());
        channel.writer_finished.store(1, std::memory_order_release);
        ::_exit(kChildRunFailed);
      }
      ++records_written;
      bytes_written += record.size();
      channel.records_published.store(records_written, std::memory_order_release);
    }
    sample.end_ns = monotonic_ns();
    const ProcessDiskBytes disk_after = own_disk_bytes().value_or(ProcessDiskBytes{});
    sample.bytes = bytes_written - lap_start_bytes;
    sample.disk_read_bytes = disk_after.read_bytes - disk_before.read_bytes;
    sample.disk_write_bytes = disk_after.write_bytes - disk_before.write_bytes;
    sample.major_faults = own_major_faults() - faults_before;
    state.writers_done_with_lap[lap].fetch_add(1, std::memory_order_release);
  }
  channel.writer_finished.store(1, std::memory_order_release);
  // _exit: the forked child must not run the parent's atexit handlers or flush its stdio.
  ::_exit(0);
}

void run_reader_process(const WriterKind& kind, const RingSetup& setup, SharedRunState& state,
                        std::size_t ring_index) {
  ReaderReport& report = state.readers[ring_index];
  const RingChannel& channel = state.channels[ring_index];
  std::unique_ptr<RingReader> reader;
  try {
    reader = kind.open_reader(setup);
  } catch (const std::exception& failure) {
    copy_error(report.error, failure.what());
    ::_exit(kChildSetupFailed);
  }
  const PublishedRecords published(channel.records_published);
  wait_for_start(state);

  const ProcessDiskBytes disk_before = own_disk_bytes().value_or(ProcessDiskBytes{});
  ReadProgress progress;
  std::uint64_t idle_since_ns = 0;
  for (;;) {
    const bool writer_finished = channel.writer_finished.load(std::memory_order_acquire) != 0;
    const std::size_t records = reader->poll(published, progress);
    if (records == 0) {
      const std::string error = reader->error_message();
      if (!error.empty()) {
        copy_error(report.error, error.c_str());
        report.progress = progress;
        ::_exit(kChildRunFailed);
      }
    }
    const std::uint64_t published_count = published.load();
    const std::uint64_t handled =
        progress.records_read + progress.records_lost + progress.records_mismatched;
    report.max_lag_records =
        std::max(report.max_lag_records, published_count - std::min(handled, published_count));
    if (records != 0) {
      idle_since_ns = 0;
      continue;
    }
    if (writer_finished && handled >= published_count) break;
    if (writer_finished) {
      const std::uint64_t now_ns = monotonic_ns();
      if (idle_since_ns == 0) idle_since_ns = now_ns;
      if (now_ns - idle_since_ns > kReaderGiveUpNs) {
        copy_error(report.error, "reader made no progress for 10 s after its writer finished");
        report.progress = progress;
        ::_exit(kChildRunFailed);
      }
    }
    ::usleep(kReaderIdleSleepMicros);
  }
  const ProcessDiskBytes disk_after = own_disk_bytes().value_or(ProcessDiskBytes{});
  report.progress = progress;
  report.disk_read_bytes = disk_after.read_bytes - disk_before.read_bytes;
  ::_exit(0);
}

}  // namespace ringfile::bench::wrap
