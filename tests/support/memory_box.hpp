// A memory cgroup smaller than a ring, for tests that reproduce a ring larger than RAM. Needs
// root and the cgroup v1 memory controller (or v2 with memory delegated); tests skip otherwise.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace ringfile::test {

class MemoryBox {
 public:
  // nullopt, with `why_not` filled, when the machine cannot make one.
  static std::optional<MemoryBox> create(std::uint64_t limit_bytes, std::string* why_not);
  ~MemoryBox();
  MemoryBox(MemoryBox&& other) noexcept;
  MemoryBox& operator=(MemoryBox&&) = delete;

  bool add(pid_t pid) const;
  std::uint64_t peak_bytes() const;  // the box's peak memory use (page cache included)

  // Also counts what the processes in the box read from disk (cgroup v1 blkio, v2 io). False,
  // with `why_not` filled, when the machine cannot. Call before adding processes.
  bool count_reads(std::string* why_not);
  struct Reads {
    std::uint64_t bytes = 0;
    std::uint64_t requests = 0;  // block I/O requests as the controller counts them
  };
  Reads reads() const;

 private:
  MemoryBox(std::filesystem::path directory, bool version_two)
      : directory_(std::move(directory)), version_two_(version_two) {}
  std::filesystem::path directory_;
  std::filesystem::path blkio_directory_;  // v1 only; v2 counts in directory_
  bool version_two_ = false;
  bool counting_reads_ = false;
};

}  // namespace ringfile::test
