// Runs one writer kind over all rings, from the parent process: creates the ring files, forks a
// writer (and a reader) per ring, samples the box and the page cache as each lap ends, times the
// final fsync, then drops the rings' page cache and deletes them so the next kind starts cold.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "wrap/box.hpp"
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

struct ReaderSummary {
  std::uint64_t records_read = 0;
  std::uint64_t records_lost = 0;
  std::uint64_t records_mismatched = 0;
  std::uint64_t disk_read_bytes = 0;
  std::uint64_t max_lag_records = 0;
};

struct KindResult {
  std::string kind;
  std::string error;  // empty: every writer (and reader) ran to the end
  std::vector<LapResult> laps;
  std::uint64_t total_bytes = 0;
  double drain_seconds = 0;  // fsync of every ring after the last lap: the dirty data left over
  double gigabytes_per_second_with_drain = 0;
  std::optional<ReaderSummary> readers;
  std::optional<std::uint64_t> box_oom_kills;  // during this kind
};

// Never throws for the kind's own failures (they land in KindResult::error).
// @pre called from the benchmark's parent, the only process that forks.
KindResult run_writer_kind(const WriterKind& kind, const WrapOptions& options, const Box& box,
                           const std::filesystem::path& ring_directory);

// Set from a SIGINT/SIGTERM handler: the running kind stops its children and cleans up.
void request_stop() noexcept;
bool stop_requested() noexcept;

}  // namespace ringfile::bench::wrap
