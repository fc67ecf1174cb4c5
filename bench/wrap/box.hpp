// The box the wrap benchmark runs in: a memory cgroup smaller than the rings (so the page cache
// cannot hold them, as on a production machine whose rings exceed RAM) and a read throttle on
// the rings' disk, in bytes and in requests per second (what a busy cloud disk leaves a reader).
// Needs root and cgroup v1 or v2 (ringfile/system/cgroups.hpp); without them the run goes on
// unboxed and says so.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/system/cgroups.hpp"

namespace ringfile::bench::wrap {

struct BoxRequest {
  bool enabled = true;  // false: --no-box, sampling returns nothing
  std::uint64_t memory_limit_bytes = 0;
  std::uint64_t read_bytes_per_second = 0;  // 0: do not throttle read bandwidth
  std::uint64_t read_iops = 0;              // 0: do not throttle read requests per second
  std::filesystem::path ring_directory;     // its disk is the one throttled
};

using BoxDiskBytes = system::CgroupDiskBytes;

// @pre created and destroyed by the benchmark's parent process, before it forks and after it has
// reaped every child (children inherit the cgroups).
class Box {
 public:
  // Creates the cgroups and moves this process into them. Never throws: whatever cannot be done
  // is said in notes() and the run continues without it.
  explicit Box(const BoxRequest& request);
  // The cgroup moves this process back to where it came from and is removed.
  ~Box() = default;
  Box(const Box&) = delete;
  Box& operator=(const Box&) = delete;

  bool memory_limited() const noexcept { return memory_.has_value(); }
  bool reads_throttled() const noexcept { return reads_throttled_; }
  // One line per fact about the box: what it is, or why some of it is missing.
  const std::vector<std::string>& notes() const noexcept { return notes_; }
  std::uint64_t memory_limit_bytes() const noexcept { return memory_limit_bytes_; }
  const std::string& disk_id() const noexcept { return disk_id_; }  // "MAJ:MIN" or empty

  // Highest memory use (page cache included) since the box was made or the last reset.
  std::optional<std::uint64_t> peak_memory_bytes() const;
  // Possible on cgroup v1 only; on v2 the peak stays the one since the box was made.
  void reset_peak_memory() const;
  std::optional<std::uint64_t> oom_kills() const;
  // Bytes the box's tasks read from (wrote to) the rings' disk, cumulative.
  std::optional<BoxDiskBytes> disk_bytes() const;

 private:
  void throttle_reads(const BoxRequest& request);

  std::optional<system::MemoryCgroup> memory_;
  bool reads_throttled_ = false;
  std::uint64_t memory_limit_bytes_ = 0;
  std::string disk_id_;
  std::vector<std::string> notes_;
};

}  // namespace ringfile::bench::wrap
