// The memory the benchmark's parent shares with the writer and reader processes it forks for one
// kind: a start gate, each ring's published record count, and the per-lap samples the children
// leave for the parent. Mapped MAP_SHARED | MAP_ANONYMOUS before fork, so no file is involved.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

// Fixed, so the shared block is a plain struct; wrap_options.cpp enforces them.
inline constexpr std::size_t kMaxRings = 64;
inline constexpr std::size_t kMaxLaps = 16;
inline constexpr std::size_t kCacheLineBytes = 64;
inline constexpr std::size_t kErrorTextBytes = 256;

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "a lock-based atomic does not work across processes");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free,
              "a lock-based atomic does not work across processes");

// One lap of one writer, measured inside the writer process.
struct WriterLapSample {
  std::uint64_t start_ns = 0;
  std::uint64_t end_ns = 0;
  std::uint64_t bytes = 0;
  std::uint64_t disk_read_bytes = 0;   // /proc/self/io read_bytes during the lap
  std::uint64_t disk_write_bytes = 0;  // /proc/self/io write_bytes during the lap
  std::uint64_t major_faults = 0;
};

// Between one ring's writer and its reader; each index on its own cache line, so the reader's
// polling does not slow the writer's stores.
struct RingChannel {
  // Records the writer has completed. Writer: store(release) after each record, pairing with
  // the reader's load(acquire) in PublishedRecords::load.
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> records_published{0};
  // Set once (release) by the writer after its last record or on failure; the reader loads it
  // (acquire) before the count, so a count read after seeing it set is final.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> writer_finished{0};
};

// Plain fields, written only by the one child that owns the slot; the parent reads them after
// the release/acquire pair on writers_done_with_lap, or after reaping the child.
struct WriterReport {
  WriterLapSample laps[kMaxLaps];
  char error[kErrorTextBytes];
};

struct ReaderReport {
  ReadProgress progress;
  std::uint64_t disk_read_bytes = 0;
  std::uint64_t max_lag_records = 0;  // furthest the reader was behind its writer
  char error[kErrorTextBytes];
};

struct SharedRunState {
  // Parent: store(1, release) once every child is set up; children load(acquire) and then start,
  // so setup (mapping, opening) stays out of the first lap.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> start_gate{0};
  // Writer: fetch_add(1, release) after filling its lap sample; the parent loads (acquire) and,
  // when all rings are done with a lap, samples the box and the page cache at that moment.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> writers_done_with_lap[kMaxLaps]{};
  RingChannel channels[kMaxRings];
  WriterReport writers[kMaxRings]{};
  ReaderReport readers[kMaxRings]{};
};

static_assert(sizeof(RingChannel) == 2 * kCacheLineBytes);
static_assert(alignof(SharedRunState) == kCacheLineBytes);

}  // namespace ringfile::bench::wrap
