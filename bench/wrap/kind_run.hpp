// Runs one writer kind over all rings, from the parent process: creates the ring files, forks a
// writer (and a reader) per ring, samples the box and the page cache as each lap ends, times the
// final fsync, optionally reads the rings' history back (--replay), then drops the rings' page
// cache and deletes them so the next kind starts cold.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "wrap/box.hpp"
#include "wrap/child_processes.hpp"
#include "wrap/process_counters.hpp"
#include "wrap/wrap_options.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

struct LapResult {
  std::uint64_t bytes = 0;  // all rings
  double seconds = 0;       // earliest writer start to latest writer end of this lap
  double gigabytes_per_second = 0;
  std::uint64_t writer_disk_read_bytes = 0;   // /proc/PID/io of the writers, summed
  std::uint64_t writer_disk_write_bytes = 0;  // bytes they dirtied (write-back comes later)
  std::uint64_t writer_major_faults = 0;
  // Between the checkpoints that close the previous lap and this one (when the last writer
  // finished each); empty when unboxed.
  std::optional<std::uint64_t> box_disk_read_bytes;
  std::optional<std::uint64_t> box_disk_write_bytes;
  std::optional<std::uint64_t> box_peak_memory_bytes;
  // The rings' page cache when the last writer finished the lap.
  std::optional<std::uint64_t> ring_resident_bytes;
  std::optional<std::uint64_t> ring_dirty_bytes;
  std::optional<std::uint64_t> ring_writeback_bytes;
};

// The processes of one side (the writers, or the readers), summed over the rings.
struct SideTimes {
  double cpu_seconds = 0;
  double runqueue_wait_seconds = 0;  // runnable, waiting for a CPU
  double waited_seconds = 0;
  double wait_cpu_seconds = 0;
  bool wait_cpu_known = true;
  std::uint64_t waits = 0;
  std::uint64_t major_faults = 0;
  std::uint64_t disk_read_bytes = 0;
};

// Adds one process's counters to its side's.
void add_process_times(const ProcessTimes& times, SideTimes& side);

// Paused readers (--reader-pause), summed over the rings.
struct PauseSummary {
  std::size_t readers_resumed = 0;
  std::size_t readers_caught_up = 0;
  std::uint64_t unread_bytes = 0;  // when each resumed
  std::uint64_t spilled_bytes = 0;  // of those, not in the page cache then or dropped before read
  std::uint64_t spilled_later_bytes = 0;  // of spilled_bytes, dropped after the readers resumed
  std::uint64_t read_back_bytes = 0;
  // From the first reader resuming to the last one reaching what was published when it resumed.
  double catch_up_seconds = 0;
};

struct ReaderSummary {
  std::uint64_t records_read = 0;
  std::uint64_t records_lost = 0;
  std::uint64_t records_mismatched = 0;
  std::uint64_t bytes_read = 0;
  std::uint64_t max_lag_records = 0;
  // Every ring's reader checked every record its writer wrote, and ended without an error.
  bool every_record_checked = false;
  SideTimes times;
  std::optional<PauseSummary> pause;
  std::optional<PagingSample> paging;  // ring 0's reader, ringfile kinds only
};

// The rings' history read after the laps, in the same box: replayed through the kind's reader,
// or each file read front to back in 1 MiB requests (`dd bs=1M`).
struct HistoryResult {
  std::uint64_t records_read = 0;
  std::uint64_t records_mismatched = 0;
  std::uint64_t bytes = 0;  // ring bytes replayed, or file bytes read
  double seconds = 0;       // from the start gate to the last reader's exit
  double megabytes_per_second = 0;
  SideTimes times;
  std::optional<BoxDiskBytes> box_disk;  // during the read
  std::string error;
};

enum class Leg { disk, tmpfs };
const char* leg_name(Leg leg) noexcept;

struct KindResult {
  std::string kind;
  Leg leg = Leg::disk;
  std::string ring_note;  // what the kind said about its rings ("paging none, hold window auto")
  std::string error;  // empty: every writer (and reader) ran to the end
  std::vector<LapResult> laps;
  std::uint64_t total_bytes = 0;
  std::uint64_t records_written = 0;
  double wall_seconds = 0;   // start gate to the last writer's or reader's exit
  double drain_seconds = 0;  // fsync of every ring after the last lap: the dirty data left over
  double gigabytes_per_second_with_drain = 0;
  SideTimes writers;
  std::optional<ReaderSummary> readers;
  std::optional<BoxDiskBytes> box_disk;  // start gate to the last exit
  std::optional<std::uint64_t> box_oom_kills;  // during this kind
  std::optional<HistoryResult> replay;
  std::optional<HistoryResult> sequential_read;
};

// Never throws for the kind's own failures (they land in KindResult::error).
// @pre called from the benchmark's parent, the only process that forks.
KindResult run_writer_kind(const WriterKind& kind, const WrapOptions& options, const Box& box,
                           const std::filesystem::path& ring_directory, Leg leg);

}  // namespace ringfile::bench::wrap
