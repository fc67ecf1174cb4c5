// A memory cgroup smaller than a ring (ringfile::system::MemoryCgroup), for tests that reproduce
// a ring larger than RAM. Needs root and a memory cgroup controller; tests skip otherwise.
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "ringfile/system/cgroups.hpp"

namespace ringfile::test {

using MemoryBox = system::MemoryCgroup;

// nullopt, with `why_not` filled, when the machine cannot make one.
inline std::optional<MemoryBox> make_memory_box(std::uint64_t limit_bytes, std::string* why_not) {
  return MemoryBox::create("ringfile-test-" + std::to_string(::getpid()), limit_bytes, why_not);
}

// A read "throttle" no disk reaches: with cgroup v1, blkio counts a disk's reads only while a
// limit is set on it (system::ReadThrottle).
inline system::ReadThrottle counting_throttle(const system::DiskUnderDirectory& disk) {
  return {disk.id, std::uint64_t{1} << 40, 0};
}

// Whether a box counts its processes' disk reads, checked rather than assumed: a test that
// expects no reads would pass for nothing where they are not counted. A child in a box of its
// own reads 1 MiB of a file in `directory` (on `disk`) with O_DIRECT, past the page cache; the
// box must count it.
inline bool box_counts_disk_reads(const std::filesystem::path& directory, const system::DiskUnderDirectory& disk,
                                  std::string* why_not) {
  constexpr std::size_t kProbeBytes = 1 << 20;
  auto probe_box = MemoryBox::create("ringfile-test-probe-" + std::to_string(::getpid()), 64 << 20, why_not);
  if (!probe_box || !probe_box->count_reads(why_not, counting_throttle(disk))) return false;
  const std::filesystem::path file = directory / "disk-read-probe";
  void* buffer = std::aligned_alloc(4096, kProbeBytes);
  if (buffer == nullptr) return false;
  std::fill_n(static_cast<char*>(buffer), kProbeBytes, 'r');
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const bool written = fd >= 0 && ::write(fd, buffer, kProbeBytes) == static_cast<ssize_t>(kProbeBytes) && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  bool counted = false;
  if (written) {
    const pid_t child = ::fork();
    if (child == 0) {
      if (probe_box->add(::getpid()) != 0) ::_exit(1);
      const int direct = ::open(file.c_str(), O_RDONLY | O_DIRECT | O_CLOEXEC);
      ::_exit(direct >= 0 && ::read(direct, buffer, kProbeBytes) == static_cast<ssize_t>(kProbeBytes) ? 0 : 1);
    }
    int status = 0;
    const bool read_it = child > 0 && ::waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    const auto reads = probe_box->disk_bytes(disk.id);
    counted = read_it && reads && reads->read_bytes >= kProbeBytes;
    if (!counted) {
      *why_not = read_it ? "its blkio counters counted 0 of 1 MiB read with O_DIRECT" : "the O_DIRECT probe read failed";
    }
  }
  std::free(buffer);
  std::filesystem::remove(file);
  return counted;
}

// Points the library's ring registry (RINGFILE_REGISTRY_DIR) at `directory` while it lives, and
// so the child processes started meanwhile: rings that other tests open on the machine at the
// same time then neither shrink nor, when they close, grow the budget a boxed test measures.
class PrivateRingRegistry {
 public:
  explicit PrivateRingRegistry(const std::filesystem::path& directory) {
    ::setenv("RINGFILE_REGISTRY_DIR", directory.c_str(), 1);
  }
  ~PrivateRingRegistry() { ::unsetenv("RINGFILE_REGISTRY_DIR"); }
  PrivateRingRegistry(const PrivateRingRegistry&) = delete;
  PrivateRingRegistry& operator=(const PrivateRingRegistry&) = delete;
};

}  // namespace ringfile::test
