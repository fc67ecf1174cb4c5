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

struct CreateOptions {
  std::uint64_t capacity_bytes = 0;  // required; a multiple of 4096
  WriterPolicy policy = WriterPolicy::block;
  // Largest payload; 0 chooses 16 MiB, or a quarter of a smaller ring.
  std::uint32_t max_record_bytes = 0;
  mode_t file_mode = 0640;
  // An open claim older than this whose producer is alive but stuck is padded over.
  std::chrono::milliseconds unblock_timeout{5000};
  // A dead named consumer keeps holding producers back this long before it is expired.
  std::chrono::milliseconds consumer_grace{10000};
};

struct OpenOptions {
  // Map the header read-only and never write to the file (ringfile-status).
  bool read_only = false;
  // Size of each sliding view of the data area; raised to hold two maximum-size records.
  std::uint64_t view_bytes = 64 * kMiB;
};

}  // namespace ringfile
