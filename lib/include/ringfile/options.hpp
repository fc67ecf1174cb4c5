// Options shared by the ring, producers and consumers.
#pragma once

#include <chrono>
#include <cstdint>
#include <sys/types.h>

namespace ringfile {

inline constexpr std::uint64_t kKiB = 1024;
inline constexpr std::uint64_t kMiB = 1024 * kKiB;
inline constexpr std::uint64_t kGiB = 1024 * kMiB;

enum class WriterPolicy : std::uint8_t {
  block = 1,      // producers wait rather than overwrite what a holding consumer has not read
  overwrite = 2,  // producers never wait; a lapped consumer skips ahead and reports its loss
};

// How a producer waits for space and a consumer for records.
enum class IdleStrategy {
  busy_spin,        // lowest latency, burns a core
  spin_then_sleep,  // spin briefly, then sleep on the futex in the header (default)
  sleep,            // sleep on the futex at once
};

// How the old lap's bytes ahead of the head are invalidated so that producers never read back
// from disk what they are about to overwrite.
enum class PagingStrategy {
  automatic,      // zero_range where the filesystem has it, punch_hole where not; none on tmpfs
                  // and for rings best kept resident whole: at most 512 MiB, at most a
                  // sixteenth of the memory the creating process may use, and fitting in a
                  // quarter of it beside the rings kept whole that are open
  zero_range,     // fallocate(FALLOC_FL_ZERO_RANGE): blocks stay allocated, read back as zeros
  punch_hole,     // fallocate(FALLOC_FL_PUNCH_HOLE), then the blocks are reserved again
  prefetch_only,  // madvise(MADV_WILLNEED) ahead: old pages are read early, asynchronously
  none,           // leave the page cache alone (tmpfs: the ring lives in memory anyway)
};

// CreateOptions::hold_window_bytes for a hold window of the whole ring (`--hold-window ring`).
inline constexpr std::uint64_t kHoldWindowWholeRing = ~std::uint64_t{0};

struct CreateOptions {
  std::uint64_t capacity_bytes = 0;  // required; a multiple of 4096, 64 KiB at least
  WriterPolicy policy = WriterPolicy::block;
  // Largest payload; 0 chooses 16 MiB, or for a smaller ring a quarter of it less a record's
  // 40-byte header (so that four whole frames fit: 262,104 bytes for 1 MiB).
  std::uint32_t max_record_bytes = 0;
  mode_t file_mode = 0640;
  // An open claim older than this whose producer is alive but stuck is padded over.
  std::chrono::milliseconds unblock_timeout{5000};
  // A holding named consumer whose process died keeps holding producers back this long after its
  // last heartbeat before it is expired; one that detached, this long after its detach.
  std::chrono::milliseconds consumer_grace{10000};
  // Invalidation ahead of the head and drop-behind (run by producers' housekeeping threads).
  PagingStrategy paging = PagingStrategy::automatic;
  // Block policy: how far producers may run ahead of a holding consumer that follows them, so
  // that what it has not read stays in memory and it never reads back from disk. A consumer
  // further behind (replaying, returning) holds producers only at the ring's capacity until it
  // is within the window again. 0: what fits in the memory budget (decided at run time, see
  // OpenOptions::resident_budget_bytes); kHoldWindowWholeRing (or anything from the capacity
  // up): the whole ring, so that bursts fill it and what does not fit in memory is written out
  // and read back later. Otherwise at least two maximum-size records; the window in force is a
  // page wider than that least one, as the paging engine prepares whole pages.
  std::uint64_t hold_window_bytes = 0;
};

struct OpenOptions {
  // Map the header read-only and never write to the file (ringfile-status).
  bool read_only = false;
  // Size of each sliding view of the data area (raised to a power of two, at least 64 KiB). It
  // also sets the paging engine's granularity (chunks of half a view, prepared a view ahead), so
  // it is part of the ring's memory. A record larger than half a view is mapped on its own; a
  // view at least as large as the data area maps all of it at once. 0: 8 MiB (where the paging
  // engine works, at most an eighth of the ring's memory budget, from 64 KiB), or on tmpfs (no
  // paging engine) the whole data area of a ring of up to 256 MiB.
  std::uint64_t view_bytes = 0;
  // Producers: what the paging engine may keep of this ring in the page cache. 0: a share of
  // the memory this process may use (half of its memory cgroup's limit, else of MemAvailable),
  // divided among the rings open on the machine. Never below what the engine needs to work
  // (a few views).
  std::uint64_t resident_budget_bytes = 0;
};

// What a producer does to make committed records survive more than a process crash.
struct SyncPolicy {
  enum class Mode {
    none,      // records survive any process crash; a power cut loses what was not written back
    interval,  // a background fdatasync at least every `interval`
    bytes,     // the producer itself calls flush() after every `bytes` of payload
  };
  Mode mode = Mode::none;
  std::chrono::milliseconds interval{1000};
  std::uint64_t bytes = 64 * kMiB;
};

}  // namespace ringfile
