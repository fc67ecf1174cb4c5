// The memory the benchmark's parent shares with the writer and reader processes it forks for one
// kind: a start gate, each ring's published record count, and the per-lap samples the children
// leave for the parent. Mapped MAP_SHARED | MAP_ANONYMOUS before fork, so no file is involved.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "wrap/child_processes.hpp"
#include "wrap/process_counters.hpp"
#include "wrap/shared_counter.hpp"
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

// Between one ring's writer and its reader; each on its own cache line, so the reader's polling
// does not slow the writer's stores.
struct RingChannel {
  // Records the writer has completed, advanced after each record (waking a reader that sleeps
  // on it); the reader's acquire load pairs with it.
  alignas(kCacheLineBytes) SharedCounter records_published;
  // Records the reader has handled, advanced after each poll: the baselines' writers wait on it
  // rather than overwrite what their reader has not read.
  alignas(kCacheLineBytes) SharedCounter records_consumed;
  // Set once (release) by the writer after its last record or on failure; the reader loads it
  // (acquire) before the count, so a count read after seeing it set is final.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> writer_finished{0};
  // Set once (release) by the reader when it stops, normally or not; a writer waiting for it
  // loads it (acquire) and gives up instead of waiting for ever.
  std::atomic<std::uint32_t> reader_finished{0};
};

// Plain fields, written only by the one child that owns the slot; the parent reads them after
// the release/acquire pair on writers_done_with_lap, or after reaping the child.
struct WriterReport {
  WriterLapSample laps[kMaxLaps];
  std::uint64_t records_written = 0;
  ProcessTimes times;
  char error[kErrorTextBytes];
};

// A reader that paused (--reader-pause): what it found when it resumed and how it caught up.
struct PauseReport {
  bool resumed = false;
  std::uint64_t resumed_ns = 0;      // system::monotonic_ns(), the same clock in every process
  UnreadBytes at_resume;             // unread, and how much of that was still cached
  std::uint64_t spilled_later = 0;   // cached at resume, dropped unread before it caught up
  bool caught_up = false;            // reached the records published when it resumed
  std::uint64_t caught_up_ns = 0;
  std::uint64_t read_back_bytes = 0; // its /proc/self/io read_bytes from resuming to there
};

struct ReaderReport {
  ReadProgress progress;
  std::uint64_t bytes_read = 0;       // record bytes checked
  std::uint64_t max_lag_records = 0;  // furthest the reader was behind its writer
  ProcessTimes times;
  PauseReport pause;
  std::optional<PagingSample> paging;
  char error[kErrorTextBytes];
};

struct SharedRunState {
  // Every writer and reader checks in once set up; the parent then opens it, so that setup
  // (mapping, opening, sizing the memory budget) stays out of the first lap.
  StartGate start_gate;
  // Writer: fetch_add(1, release) after filling its lap sample; the parent loads (acquire) and,
  // when all rings are done with a lap, samples the box and the page cache at that moment.
  alignas(kCacheLineBytes) std::atomic<std::uint32_t> writers_done_with_lap[kMaxLaps]{};
  RingChannel channels[kMaxRings];
  WriterReport writers[kMaxRings]{};
  ReaderReport readers[kMaxRings]{};
};

// One ring's history read in a child after the laps: a replay through the kind's reader, or the
// file read front to back in 1 MiB requests (the `dd bs=1M` it is compared with).
struct HistoryReport {
  std::uint64_t records_read = 0;  // checked (a replay)
  std::uint64_t records_mismatched = 0;
  std::uint64_t bytes = 0;         // ring bytes replayed, or file bytes read
  ProcessTimes times;
  char error[kErrorTextBytes];
};

struct SharedHistoryState {
  StartGate start_gate;
  HistoryReport rings[kMaxRings]{};
};

static_assert(sizeof(RingChannel) == 3 * kCacheLineBytes);
static_assert(alignof(SharedRunState) == kCacheLineBytes);

// A child's error message into its report slot, cut to fit.
inline void copy_error(char (&destination)[kErrorTextBytes], const char* message) noexcept {
  std::strncpy(destination, message, kErrorTextBytes - 1);
  destination[kErrorTextBytes - 1] = '\0';
}


}  // namespace ringfile::bench::wrap
