// This process's cgroups, and memory cgroups made under them: one home for what the wrap
// benchmark's box and the tests' memory box both need. Cgroup v1 (separate memory and blkio
// hierarchies) and v2 (one unified hierarchy), wherever they are mounted: the mount points come
// from /proc/self/mountinfo and this process's place in them from /proc/self/cgroup.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::system {

// The directory of this process's cgroup in the v1 hierarchy that carries `controller`
// ("memory", "blkio"). nullopt: no such v1 hierarchy is mounted.
std::optional<std::filesystem::path> own_v1_cgroup_dir(std::string_view controller);
// The directory of this process's cgroup in the unified (v2) hierarchy. nullopt: not mounted.
std::optional<std::filesystem::path> own_v2_cgroup_dir();

// Writes `text` to a cgroup (or sysfs) file in one write(2): such files act on each write and
// report failure from it. Returns 0 or the errno of the failure.
int write_control_file(const std::filesystem::path& path, std::string_view text) noexcept;
std::optional<std::string> read_text_file(const std::filesystem::path& path);

// Disk traffic of a cgroup's processes, cumulative, as its block I/O controller counts it.
struct CgroupDiskBytes {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;    // cgroup v1 sees only writes issued by the cgroup's own tasks
  std::uint64_t read_requests = 0;  // block I/O read requests
};

// The disk a directory lives on, for a ReadThrottle.
struct DiskUnderDirectory {
  std::string id;    // "MAJ:MIN" of the whole disk: the read throttle takes disks, not partitions
  std::string name;  // "vda"
};

// nullopt with `why_not` filled when the directory is not on a block device (tmpfs, overlay) or
// sysfs does not say which disk it is.
std::optional<DiskUnderDirectory> disk_under(const std::filesystem::path& directory, std::string& why_not);

// A read throttle on one disk, for MemoryCgroup::count_reads. With cgroup v1, blkio counts the
// reads on a disk only while a limit is set on it (seen on Linux 6.18: a cold 64 MiB read counted
// nothing without one), so a box that only counts sets a limit no disk reaches.
struct ReadThrottle {
  std::string disk_id;                    // "MAJ:MIN" of a whole disk
  std::uint64_t bytes_per_second = 0;     // 0: no limit on bandwidth
  std::uint64_t requests_per_second = 0;  // 0: no limit on requests
};

// A memory cgroup made under this process's own, with a limit that the page cache counts
// against: processes added to it see a machine with that much memory. Removed when destroyed;
// the processes added must have exited by then, except this one, which is moved back first.
// Needs root and the v1 memory controller, or v2 with the memory controller available.
class MemoryCgroup {
 public:
  // `name`: a directory name unique on the machine ("ringfile-test-PID"). nullopt, with
  // `why_not` filled, when the machine cannot make one.
  static std::optional<MemoryCgroup> create(const std::string& name, std::uint64_t limit_bytes,
                                            std::string* why_not);
  ~MemoryCgroup();
  MemoryCgroup(MemoryCgroup&& other) noexcept;
  MemoryCgroup& operator=(MemoryCgroup&&) = delete;
  MemoryCgroup(const MemoryCgroup&) = delete;
  MemoryCgroup& operator=(const MemoryCgroup&) = delete;

  bool version_two() const noexcept { return version_two_; }
  const std::filesystem::path& directory() const noexcept { return directory_; }
  std::uint64_t limit_bytes() const noexcept { return limit_bytes_; }

  // Counts what the cgroup's processes read from disk (v1: in a blkio cgroup of the same name;
  // v2: with the io controller of this one) and, when `throttle` names a disk, throttles their
  // reads from it. Call before adding processes. false, with `why_not` filled, when it cannot.
  bool count_reads(std::string* why_not, const ReadThrottle& throttle = {});
  // Where reads are counted (and throttled): empty until count_reads succeeded.
  const std::filesystem::path& reads_directory() const noexcept { return reads_directory_; }

  // Moves `pid` (this process or a child) into the cgroup, and into the reads cgroup if any.
  // 0 or the errno of the failure.
  int add(pid_t pid) const;

  // The highest memory use (page cache included) since the cgroup was made or the last reset.
  std::optional<std::uint64_t> peak_bytes() const;
  // Possible on v1 only; on v2 the peak stays the one since the cgroup was made.
  void reset_peak() const;
  std::optional<std::uint64_t> oom_kills() const;
  // What the processes read from (wrote to) disk `disk_id`, or every disk summed when empty.
  // nullopt: reads are not counted, or the counters are unreadable.
  std::optional<CgroupDiskBytes> disk_bytes(std::string_view disk_id = {}) const;

 private:
  MemoryCgroup(std::filesystem::path directory, std::filesystem::path origin, bool version_two,
               std::uint64_t limit_bytes)
      : directory_(std::move(directory)),
        origin_(std::move(origin)),
        version_two_(version_two),
        limit_bytes_(limit_bytes) {}

  std::filesystem::path directory_;
  std::filesystem::path origin_;  // the cgroup it was made in, where this process goes back
  std::filesystem::path reads_directory_;
  std::filesystem::path reads_origin_;
  bool version_two_ = false;
  mutable bool holds_this_process_ = false;  // set by add(getpid()): the destructor moves it back
  std::uint64_t limit_bytes_ = 0;
};

}  // namespace ringfile::system
