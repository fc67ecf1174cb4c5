#include "wrap/kind_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/clock.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "ringfile/system/page_cache.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "support/byte_size.hpp"
#include "wrap/child_processes.hpp"
#include "wrap/history_reads.hpp"
#include "wrap/ring_processes.hpp"
#include "wrap/shared_run_state.hpp"

namespace ringfile::bench::wrap {

namespace {

namespace fs = std::filesystem;

// A reader takes about this much per poll, so that it releases its writer as it goes.
constexpr std::uint64_t kBytesPerPoll = 1 << 20;
constexpr std::size_t kMostRecordsPerPoll = 64;

// The box and the rings' page cache at one moment.
struct Checkpoint {
  std::optional<BoxDiskBytes> box_disk;
  std::optional<std::uint64_t> box_peak_memory;  // since the previous checkpoint (v1)
  std::optional<system::FileResidency> rings;            // summed over the rings
};

Checkpoint take_checkpoint(const Box& box, const std::vector<system::FileDescriptor>& ring_files) {
  Checkpoint checkpoint;
  checkpoint.box_disk = box.disk_bytes();
  checkpoint.box_peak_memory = box.peak_memory_bytes();
  box.reset_peak_memory();
  system::FileResidency total;
  for (const system::FileDescriptor& file : ring_files) {
    const auto residency = system::file_residency(file.get());
    if (!residency) return checkpoint;
    total.resident_bytes += residency->resident_bytes;
    if (residency->dirty_bytes) {
      total.dirty_bytes = total.dirty_bytes.value_or(0) + *residency->dirty_bytes;
    }
    if (residency->writeback_bytes) {
      total.writeback_bytes = total.writeback_bytes.value_or(0) + *residency->writeback_bytes;
    }
  }
  checkpoint.rings = total;
  return checkpoint;
}

std::optional<BoxDiskBytes> disk_between(const Checkpoint& before, const Checkpoint& after) {
  if (!before.box_disk || !after.box_disk) return std::nullopt;
  return BoxDiskBytes{after.box_disk->read_bytes - before.box_disk->read_bytes,
                      after.box_disk->write_bytes - before.box_disk->write_bytes,
                      after.box_disk->read_requests - before.box_disk->read_requests};
}

RingSetup ring_setup(const WriterKind& kind, const WrapOptions& options, const fs::path& directory,
                     std::size_t ring, Leg leg) {
  RingSetup setup;
  setup.path = directory / (std::string(kind.name) + "-ring-" + std::to_string(ring));
  setup.ring_bytes = options.ring_bytes;
  setup.view_bytes = options.view_bytes;
  setup.record_bytes = options.record_bytes;
  setup.readers = options.readers;
  setup.reader_work_passes = options.reader_work;
  setup.reader_pause_bytes = options.reader_pause_bytes;
  setup.records_per_poll = static_cast<std::size_t>(
      std::clamp<std::uint64_t>(kBytesPerPoll / options.record_bytes, 1, kMostRecordsPerPoll));
  setup.on_tmpfs = leg == Leg::tmpfs;
  setup.ringfile_view_bytes = options.ringfile_view_bytes;
  setup.ringfile_checksum = options.ringfile_checksum;
  setup.ringfile_hold_window_bytes = options.ringfile_hold_window_bytes;
  return setup;
}

pid_t fork_child(const ChildProcess& role, const WriterKind& kind, const RingSetup& setup,
                 std::uint64_t laps, SharedRunState& state) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The parent stops its children itself; in a child Ctrl-C should simply end it.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (role.role == std::string_view("writer")) {
    run_writer_process(kind, setup, laps, state, role.ring_index);
  }
  run_reader_process(kind, setup, state, role.ring_index);
}

void remove_rings(const WriterKind& kind, const std::vector<RingSetup>& setups,
                  std::vector<system::FileDescriptor>& ring_files) {
  if (kind.release_rings != nullptr) kind.release_rings();
  for (system::FileDescriptor& file : ring_files) {
    system::flush_and_drop_page_cache(file.get());
    file.reset();
  }
  std::error_code ignored;
  for (const RingSetup& setup : setups) fs::remove(setup.path, ignored);
}

LapResult summarise_lap(std::size_t lap, std::size_t ring_count, const SharedRunState& state,
                        const Checkpoint& before, const Checkpoint& after) {
  LapResult result;
  std::uint64_t earliest_start = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t latest_end = 0;
  for (std::size_t ring = 0; ring < ring_count; ++ring) {
    const WriterLapSample& sample = state.writers[ring].laps[lap];
    earliest_start = std::min(earliest_start, sample.start_ns);
    latest_end = std::max(latest_end, sample.end_ns);
    result.bytes += sample.bytes;
    result.writer_disk_read_bytes += sample.disk_read_bytes;
    result.writer_disk_write_bytes += sample.disk_write_bytes;
    result.writer_major_faults += sample.major_faults;
  }
  result.seconds = system::seconds_between(earliest_start, latest_end);
  result.gigabytes_per_second =
      result.seconds > 0 ? static_cast<double>(result.bytes) / kBytesPerGB / result.seconds : 0;
  if (const auto disk = disk_between(before, after)) {
    result.box_disk_read_bytes = disk->read_bytes;
    result.box_disk_write_bytes = disk->write_bytes;
  }
  result.box_peak_memory_bytes = after.box_peak_memory;
  if (after.rings) {
    result.ring_resident_bytes = after.rings->resident_bytes;
    result.ring_dirty_bytes = after.rings->dirty_bytes;
    result.ring_writeback_bytes = after.rings->writeback_bytes;
  }
  return result;
}

// What create_ring said of each ring, in order: one note where every ring got the same, else each
// note with how many rings got it ("4 rings: paging none; 20 rings: paging zero_range", as
// automatic paging may choose differently for rings created one after another).
std::string summarise_ring_notes(const std::vector<std::string>& notes) {
  std::vector<std::pair<std::string, std::size_t>> counted;
  for (const std::string& note : notes) {
    if (!counted.empty() && counted.back().first == note) {
      counted.back().second += 1;
    } else {
      counted.emplace_back(note, 1);
    }
  }
  if (counted.size() <= 1) return counted.empty() ? std::string() : counted.front().first;
  std::string summary;
  for (const auto& [note, rings] : counted) {
    if (!summary.empty()) summary += "; ";
    summary += std::to_string(rings) + (rings == 1 ? " ring: " : " rings: ") + note;
  }
  return summary;
}

// Creates every ring of the kind, each with nothing in the page cache, and opens the parent's
// handle on it. Throws programs::RuntimeFailure; what was made is in `setups`/`ring_files` for clean-up.
std::string create_rings(const WriterKind& kind, const WrapOptions& options,
                         const fs::path& directory, Leg leg, std::vector<RingSetup>& setups,
                         std::vector<system::FileDescriptor>& ring_files) {
  std::vector<std::string> notes;
  for (std::size_t ring = 0; ring < options.ring_count; ++ring) {
    setups.push_back(ring_setup(kind, options, directory, ring, leg));
    notes.push_back(kind.create_ring(setups.back()));
    ring_files.emplace_back(::open(setups.back().path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ring_files.back().valid()) {
      throw programs::RuntimeFailure(system::describe_errno("cannot open " + setups.back().path.string(), errno));
    }
    // Kinds start equal: nothing of the new file in the page cache.
    system::flush_and_drop_page_cache(ring_files.back().get());
  }
  return summarise_ring_notes(notes);
}

// A writer per ring, and a reader per ring with --readers. They check in at the start gate.
std::vector<ChildProcess> fork_children(const WriterKind& kind, const WrapOptions& options,
                                        const std::vector<RingSetup>& setups, SharedRunState& state,
                                        std::string& error) {
  std::vector<ChildProcess> children;
  for (std::size_t ring = 0; ring < setups.size(); ++ring) {
    for (const char* role : {"writer", "reader"}) {
      if (role == std::string_view("reader") && !options.readers) continue;
      ChildProcess child{-1, role, ring, false, 0};
      child.pid = fork_child(child, kind, setups[ring], options.laps, state);
      if (child.pid < 0) {
        error = system::describe_errno("fork", errno);
        request_stop();  // the children already running are stopped by watch_children
        return children;
      }
      children.push_back(child);
    }
  }
  return children;
}

// Once every child is set up (and --settle has passed), opens the start gate, then samples the
// box and the page cache each time the last writer finishes a lap, until every child has exited.
// Returns [0] at the start, [k + 1] at lap k's end, and a last one when every child has exited;
// `wall_seconds` from the gate to then.
std::vector<Checkpoint> watch_laps(std::vector<ChildProcess>& children, SharedRunState& state,
                                   const Box& box, const std::vector<system::FileDescriptor>& ring_files,
                                   const WrapOptions& options, double& wall_seconds) {
  state.start_gate.wait_for_check_ins(children);
  if (options.settle_seconds != 0 && !stop_requested()) ::sleep(static_cast<unsigned>(options.settle_seconds));
  const std::size_t laps = options.laps;
  std::vector<Checkpoint> checkpoints{take_checkpoint(box, ring_files)};
  const std::uint64_t start_ns = system::monotonic_ns();
  state.start_gate.open_now();
  watch_children(children, [&] {
    // Acquire: pairs with each writer's release fetch_add after it filled its lap sample.
    while (checkpoints.size() <= laps && state.writers_done_with_lap[checkpoints.size() - 1].load(
                                             std::memory_order_acquire) == ring_files.size()) {
      checkpoints.push_back(take_checkpoint(box, ring_files));
    }
  });
  wall_seconds = system::seconds_between(start_ns, system::monotonic_ns());
  checkpoints.push_back(take_checkpoint(box, ring_files));
  return checkpoints;
}

void summarise_laps(const SharedRunState& state, const std::vector<Checkpoint>& checkpoints,
                    std::size_t ring_count, std::size_t laps, KindResult& result) {
  std::uint64_t first_start_ns = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_end_ns = 0;
  // Every lap has its closing checkpoint only if every writer finished it.
  const std::size_t laps_done = std::min(laps, checkpoints.size() - 2);
  for (std::size_t lap = 0; lap < laps_done; ++lap) {
    result.laps.push_back(
        summarise_lap(lap, ring_count, state, checkpoints[lap], checkpoints[lap + 1]));
    result.total_bytes += result.laps.back().bytes;
    for (std::size_t ring = 0; ring < ring_count; ++ring) {
      first_start_ns = std::min(first_start_ns, state.writers[ring].laps[lap].start_ns);
      last_end_ns = std::max(last_end_ns, state.writers[ring].laps[lap].end_ns);
    }
  }
  const double seconds = system::seconds_between(first_start_ns, last_end_ns) + result.drain_seconds;
  if (!result.laps.empty() && seconds > 0) {
    result.gigabytes_per_second_with_drain =
        static_cast<double>(result.total_bytes) / kBytesPerGB / seconds;
  }
  result.box_disk = disk_between(checkpoints.front(), checkpoints.back());
}

}  // namespace

void add_process_times(const ProcessTimes& times, SideTimes& side) {
  side.cpu_seconds += static_cast<double>(times.cpu_ns) / 1e9;
  side.runqueue_wait_seconds += static_cast<double>(times.runqueue_wait_ns) / 1e9;
  side.waited_seconds += static_cast<double>(times.waited_ns) / 1e9;
  side.wait_cpu_seconds += static_cast<double>(times.wait_cpu_ns) / 1e9;
  side.wait_cpu_known = side.wait_cpu_known && times.wait_cpu_known;
  side.waits += times.waits;
  side.major_faults += times.major_faults;
  side.disk_read_bytes += times.disk_read_bytes;
}

namespace {

PauseSummary summarise_pauses(const SharedRunState& state, std::size_t ring_count) {
  PauseSummary summary;
  std::uint64_t first_resume_ns = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_catch_up_ns = 0;
  for (std::size_t ring = 0; ring < ring_count; ++ring) {
    const PauseReport& pause = state.readers[ring].pause;
    if (!pause.resumed) continue;
    ++summary.readers_resumed;
    summary.unread_bytes += pause.at_resume.unread;
    summary.spilled_bytes += pause.at_resume.unread - std::min(pause.at_resume.cached,
                                                               pause.at_resume.unread) +
                             pause.spilled_later;
    summary.spilled_later_bytes += pause.spilled_later;
    first_resume_ns = std::min(first_resume_ns, pause.resumed_ns);
    if (!pause.caught_up) continue;
    ++summary.readers_caught_up;
    summary.read_back_bytes += pause.read_back_bytes;
    last_catch_up_ns = std::max(last_catch_up_ns, pause.caught_up_ns);
  }
  summary.catch_up_seconds = system::seconds_between(first_resume_ns, last_catch_up_ns);
  return summary;
}

ReaderSummary summarise_readers(const SharedRunState& state, const std::vector<ChildProcess>& children,
                                std::size_t ring_count, bool paused) {
  ReaderSummary readers;
  readers.every_record_checked = true;
  for (std::size_t ring = 0; ring < ring_count; ++ring) {
    const ReaderReport& report = state.readers[ring];
    readers.records_read += report.progress.records_read;
    readers.records_lost += report.progress.records_lost;
    readers.records_mismatched += report.progress.records_mismatched;
    readers.bytes_read += report.bytes_read;
    readers.max_lag_records = std::max(readers.max_lag_records, report.max_lag_records);
    add_process_times(report.times, readers.times);
    if (report.progress.records_read != state.writers[ring].records_written ||
        report.progress.records_lost != 0 || report.progress.records_mismatched != 0) {
      readers.every_record_checked = false;
    }
    if (ring == 0) readers.paging = report.paging;
  }
  for (const ChildProcess& child : children) {
    if (!exited_cleanly(child)) readers.every_record_checked = false;
  }
  if (paused) readers.pause = summarise_pauses(state, ring_count);
  return readers;
}

std::optional<std::uint64_t> difference(const std::optional<std::uint64_t>& later,
                                        const std::optional<std::uint64_t>& earlier) {
  if (!later || !earlier) return std::nullopt;
  return *later - *earlier;
}

void append_history_error(std::string& errors, const char* what,
                          const std::optional<HistoryResult>& history) {
  if (history && !history->error.empty()) append_error(errors, what + (": " + history->error));
}

}  // namespace

const char* leg_name(Leg leg) noexcept { return leg == Leg::disk ? "disk" : "tmpfs"; }

KindResult run_writer_kind(const WriterKind& kind, const WrapOptions& options, const Box& box,
                           const fs::path& ring_directory, Leg leg) {
  KindResult result;
  result.kind = std::string(kind.name);
  result.leg = leg;
  std::vector<RingSetup> setups;
  std::vector<system::FileDescriptor> ring_files;  // the parent's handles, for sampling and the drain
  std::optional<system::SharedObjects<SharedRunState>> shared;
  try {
    shared.emplace("the run's shared state");
    result.ring_note = create_rings(kind, options, ring_directory, leg, setups, ring_files);
  } catch (const std::exception& failure) {
    result.error = failure.what();
    remove_rings(kind, setups, ring_files);
    return result;
  }
  SharedRunState& state = shared->front();
  std::vector<ChildProcess> children = fork_children(kind, options, setups, state, result.error);
  const std::optional<std::uint64_t> oom_kills_before = box.oom_kills();
  const std::vector<Checkpoint> checkpoints =
      watch_laps(children, state, box, ring_files, options, result.wall_seconds);

  // The dirty data each kind leaves behind is part of its cost: time writing it out.
  const std::uint64_t drain_start_ns = system::monotonic_ns();
  for (const system::FileDescriptor& file : ring_files) ::fsync(file.get());
  result.drain_seconds = system::seconds_between(drain_start_ns, system::monotonic_ns());

  for (const ChildProcess& child : children) {
    if (exited_cleanly(child)) continue;
    const bool writer = child.role == std::string_view("writer");
    append_error(result.error, describe_exit(child, writer ? state.writers[child.ring_index].error
                                                           : state.readers[child.ring_index].error));
  }
  if (stop_requested()) append_error(result.error, "interrupted");
  summarise_laps(state, checkpoints, options.ring_count, options.laps, result);
  for (std::size_t ring = 0; ring < options.ring_count; ++ring) {
    result.records_written += state.writers[ring].records_written;
    add_process_times(state.writers[ring].times, result.writers);
  }
  if (options.readers) {
    std::vector<ChildProcess> readers;
    for (const ChildProcess& child : children) {
      if (child.role != std::string_view("writer")) readers.push_back(child);
    }
    result.readers = summarise_readers(state, readers, options.ring_count,
                                       options.reader_pause_bytes != 0);
  }
  result.box_oom_kills = difference(box.oom_kills(), oom_kills_before);

  // History is read back on disk only: on tmpfs nothing can leave memory. A paused reader's
  // read-back is compared with the same sequential read. A writer that failed still left its
  // history (up to where it failed) to read back.
  const bool read_back = leg == Leg::disk;
  if (read_back && options.replay && !stop_requested()) {
    std::fprintf(stderr, "  %s: replaying history ...\n", result.kind.c_str());
    result.replay = replay_history(kind, setups, ring_files, box);
    append_history_error(result.error, "replay", result.replay);
  }
  if (read_back && (options.replay || options.reader_pause_bytes != 0) && !stop_requested()) {
    std::fprintf(stderr, "  %s: reading the ring files in 1 MiB requests ...\n",
                 result.kind.c_str());
    result.sequential_read = read_files_sequentially(setups, ring_files, box);
    append_history_error(result.error, "sequential read", result.sequential_read);
  }
  remove_rings(kind, setups, ring_files);
  return result;
}

}  // namespace ringfile::bench::wrap
