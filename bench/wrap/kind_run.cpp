#include "wrap/kind_run.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <limits>
#include <new>

#include "support/byte_size.hpp"
#include "support/clock.hpp"
#include "support/file_descriptor.hpp"
#include "support/setup_error.hpp"
#include "wrap/page_cache.hpp"
#include "wrap/ring_processes.hpp"
#include "wrap/shared_run_state.hpp"

namespace ringfile::bench::wrap {

namespace {

namespace fs = std::filesystem;

volatile std::sig_atomic_t stop_flag = 0;

constexpr useconds_t kMonitorPollMicros = 5000;

// The shared block, mapped before fork so every child sees the same pages.
class SharedRunMapping {
 public:
  SharedRunMapping() {
    void* const memory = ::mmap(nullptr, sizeof(SharedRunState), PROT_READ | PROT_WRITE,
                                MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw SetupError(describe_errno("cannot map shared state", errno));
    state_ = new (memory) SharedRunState{};
  }
  ~SharedRunMapping() { ::munmap(state_, sizeof(SharedRunState)); }
  SharedRunMapping(const SharedRunMapping&) = delete;
  SharedRunMapping& operator=(const SharedRunMapping&) = delete;
  SharedRunState& state() noexcept { return *state_; }

 private:
  SharedRunState* state_ = nullptr;
};

// The box and the rings' page cache at one moment.
struct Checkpoint {
  std::optional<BoxDiskBytes> box_disk;
  std::optional<std::uint64_t> box_peak_memory;  // since the previous checkpoint (v1)
  std::optional<FileResidency> rings;            // summed over the rings
};

Checkpoint take_checkpoint(const Box& box, const std::vector<FileDescriptor>& ring_files) {
  Checkpoint checkpoint;
  checkpoint.box_disk = box.disk_bytes();
  checkpoint.box_peak_memory = box.peak_memory_bytes();
  box.reset_peak_memory();
  FileResidency total;
  for (const FileDescriptor& file : ring_files) {
    const auto residency = file_residency(file.get());
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

struct ChildProcess {
  pid_t pid = -1;
  bool is_writer = true;
  std::size_t ring_index = 0;
  bool reaped = false;
  int wait_status = 0;
};

std::string describe_exit(const ChildProcess& child, const SharedRunState& state) {
  const char* const role = child.is_writer ? "writer" : "reader";
  const char* const error = child.is_writer ? state.writers[child.ring_index].error
                                            : state.readers[child.ring_index].error;
  std::string text = std::string(role) + " of ring " + std::to_string(child.ring_index);
  if (WIFSIGNALED(child.wait_status)) {
    const int signal_number = WTERMSIG(child.wait_status);
    text += " killed by signal " + std::to_string(signal_number);
    if (signal_number == SIGKILL) text += " (out of memory in the box?)";
    if (signal_number == SIGBUS) text += " (SIGBUS: disk full under a mapping?)";
  } else {
    text += " exited with status " + std::to_string(WEXITSTATUS(child.wait_status));
  }
  if (error[0] != '\0') text += ": " + std::string(error);
  return text;
}

pid_t fork_child(const ChildProcess& role, const WriterKind& kind, const RingSetup& setup,
                 std::uint64_t laps, SharedRunState& state) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  // The parent stops its children itself; in a child Ctrl-C should simply end it.
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (role.is_writer) run_writer_process(kind, setup, laps, state, role.ring_index);
  run_reader_process(kind, setup, state, role.ring_index);
}

// Reaps whatever has exited, without waiting; returns how many children are still running.
std::size_t reap_exited_children(std::vector<ChildProcess>& children) {
  std::size_t running = 0;
  for (ChildProcess& child : children) {
    if (child.reaped) continue;
    const pid_t result = ::waitpid(child.pid, &child.wait_status, WNOHANG);
    if (result == child.pid || (result < 0 && errno == ECHILD)) {
      child.reaped = true;
    } else {
      ++running;
    }
  }
  return running;
}

void remove_rings(const std::vector<RingSetup>& setups, std::vector<FileDescriptor>& ring_files) {
  for (FileDescriptor& file : ring_files) {
    flush_and_drop_page_cache(file.get());
    file.reset();
  }
  std::error_code ignored;
  for (const RingSetup& setup : setups) fs::remove(setup.path, ignored);
}

std::optional<std::uint64_t> difference(const std::optional<std::uint64_t>& later,
                                        const std::optional<std::uint64_t>& earlier) {
  if (!later || !earlier) return std::nullopt;
  return *later - *earlier;
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
  result.seconds = seconds_between(earliest_start, latest_end);
  result.gigabytes_per_second =
      result.seconds > 0 ? static_cast<double>(result.bytes) / kBytesPerGB / result.seconds : 0;
  if (before.box_disk && after.box_disk) {
    result.box_disk_read_bytes = after.box_disk->read_bytes - before.box_disk->read_bytes;
    result.box_disk_write_bytes = after.box_disk->write_bytes - before.box_disk->write_bytes;
  }
  result.box_peak_memory_bytes = after.box_peak_memory;
  if (after.rings) {
    result.ring_resident_bytes = after.rings->resident_bytes;
    result.ring_dirty_bytes = after.rings->dirty_bytes;
    result.ring_writeback_bytes = after.rings->writeback_bytes;
  }
  return result;
}

// Creates every ring of the kind, each with nothing in the page cache, and opens the parent's
// handle on it. Throws SetupError; what was made is in `setups`/`ring_files` for clean-up.
void create_rings(const WriterKind& kind, const WrapOptions& options, const fs::path& directory,
                  std::vector<RingSetup>& setups, std::vector<FileDescriptor>& ring_files) {
  for (std::size_t ring = 0; ring < options.ring_count; ++ring) {
    setups.push_back({directory / (std::string(kind.name) + "-ring-" + std::to_string(ring)),
                      options.ring_bytes, options.view_bytes, options.record_bytes,
                      options.readers, options.ringfile_view_bytes, options.ringfile_checksum,
                      options.ringfile_copy_api});
    kind.create_ring(setups.back());
    ring_files.emplace_back(::open(setups.back().path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ring_files.back().valid()) {
      throw SetupError(describe_errno("cannot open " + setups.back().path.string(), errno));
    }
    // Kinds start equal: nothing of the new file in the page cache.
    flush_and_drop_page_cache(ring_files.back().get());
  }
}

// A writer per ring, and a reader per ring with --readers. They wait at the start gate.
std::vector<ChildProcess> fork_children(const WriterKind& kind, const WrapOptions& options,
                                        const std::vector<RingSetup>& setups, SharedRunState& state,
                                        std::string& error) {
  std::vector<ChildProcess> children;
  for (std::size_t ring = 0; ring < setups.size(); ++ring) {
    for (const bool is_writer : {true, false}) {
      if (!is_writer && !options.readers) continue;
      ChildProcess child{-1, is_writer, ring, false, 0};
      child.pid = fork_child(child, kind, setups[ring], options.laps, state);
      if (child.pid < 0) {
        error = describe_errno("fork", errno);
        request_stop();  // the children already running are stopped by watch_laps
        return children;
      }
      children.push_back(child);
    }
  }
  return children;
}

// Opens the start gate, then samples the box and the page cache each time the last writer
// finishes a lap, until every child has exited. Returns [0] at the start, [k + 1] at lap k's end.
std::vector<Checkpoint> watch_laps(std::vector<ChildProcess>& children, SharedRunState& state,
                                   const Box& box, const std::vector<FileDescriptor>& ring_files,
                                   std::size_t laps) {
  std::vector<Checkpoint> checkpoints{take_checkpoint(box, ring_files)};
  state.start_gate.store(1, std::memory_order_release);
  const auto take_due_checkpoints = [&] {
    while (checkpoints.size() <= laps && state.writers_done_with_lap[checkpoints.size() - 1].load(
                                             std::memory_order_acquire) == ring_files.size()) {
      checkpoints.push_back(take_checkpoint(box, ring_files));
    }
  };
  bool children_stopped = false;
  while (reap_exited_children(children) > 0) {
    take_due_checkpoints();
    if (stop_requested() && !children_stopped) {
      for (const ChildProcess& child : children) {
        if (!child.reaped) ::kill(child.pid, SIGTERM);
      }
      children_stopped = true;
    }
    ::usleep(kMonitorPollMicros);
  }
  take_due_checkpoints();  // laps finished in the last poll interval, as the writers exited
  return checkpoints;
}

void summarise_laps(const SharedRunState& state, const std::vector<Checkpoint>& checkpoints,
                    std::size_t ring_count, KindResult& result) {
  std::uint64_t first_start_ns = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t last_end_ns = 0;
  for (std::size_t lap = 0; lap + 1 < checkpoints.size(); ++lap) {
    result.laps.push_back(
        summarise_lap(lap, ring_count, state, checkpoints[lap], checkpoints[lap + 1]));
    result.total_bytes += result.laps.back().bytes;
    for (std::size_t ring = 0; ring < ring_count; ++ring) {
      first_start_ns = std::min(first_start_ns, state.writers[ring].laps[lap].start_ns);
      last_end_ns = std::max(last_end_ns, state.writers[ring].laps[lap].end_ns);
    }
  }
  const double seconds = seconds_between(first_start_ns, last_end_ns) + result.drain_seconds;
  if (!result.laps.empty() && seconds > 0) {
    result.gigabytes_per_second_with_drain =
        static_cast<double>(result.total_bytes) / kBytesPerGB / seconds;
  }
}

ReaderSummary summarise_readers(const SharedRunState& state, std::size_t ring_count) {
  ReaderSummary readers;
  for (std::size_t ring = 0; ring < ring_count; ++ring) {
    const ReaderReport& report = state.readers[ring];
    readers.records_read += report.progress.records_read;
    readers.records_lost += report.progress.records_lost;
    readers.records_mismatched += report.progress.records_mismatched;
    readers.disk_read_bytes += report.disk_read_bytes;
    readers.max_lag_records = std::max(readers.max_lag_records, report.max_lag_records);
  }
  return readers;
}

void append_error(std::string& errors, const std::string& error) {
  errors += (errors.empty() ? "" : "; ") + error;
}

}  // namespace

void request_stop() noexcept { stop_flag = 1; }
bool stop_requested() noexcept { return stop_flag != 0; }

KindResult run_writer_kind(const WriterKind& kind, const WrapOptions& options, const Box& box,
                           const fs::path& ring_directory) {
  KindResult result;
  result.kind = std::string(kind.name);
  std::vector<RingSetup> setups;
  std::vector<FileDescriptor> ring_files;  // the parent's handles, for sampling and the drain
  std::optional<SharedRunMapping> shared;
  try {
    shared.emplace();
    create_rings(kind, options, ring_directory, setups, ring_files);
  } catch (const std::exception& failure) {
    result.error = failure.what();
    remove_rings(setups, ring_files);
    return result;
  }
  SharedRunState& state = shared->state();
  std::vector<ChildProcess> children = fork_children(kind, options, setups, state, result.error);
  const std::optional<std::uint64_t> oom_kills_before = box.oom_kills();
  const std::vector<Checkpoint> checkpoints =
      watch_laps(children, state, box, ring_files, options.laps);

  // The dirty data each kind leaves behind is part of its cost: time writing it out.
  const std::uint64_t drain_start_ns = monotonic_ns();
  for (const FileDescriptor& file : ring_files) ::fsync(file.get());
  result.drain_seconds = seconds_between(drain_start_ns, monotonic_ns());

  for (const ChildProcess& child : children) {
    if (WIFEXITED(child.wait_status) && WEXITSTATUS(child.wait_status) == 0) continue;
    append_error(result.error, describe_exit(child, state));
  }
  if (stop_requested()) append_error(result.error, "interrupted");
  summarise_laps(state, checkpoints, options.ring_count, result);
  if (options.readers) result.readers = summarise_readers(state, options.ring_count);
  result.box_oom_kills = difference(box.oom_kills(), oom_kills_before);
  remove_rings(setups, ring_files);
  return result;
}

}  // namespace ringfile::bench::wrap
