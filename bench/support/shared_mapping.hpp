// Memory shared between a benchmark process and the processes it forks.
#pragma once

#include <cstddef>

namespace ringfile::bench {

// POSIX shared memory (shm_open, unlinked at once), mapped before a fork so that the child
// process inherits the same pages. Unmapped when destroyed.
class SharedMapping {
 public:
  // Throws SetupError when /dev/shm has no room or the mapping fails.
  explicit SharedMapping(std::size_t bytes);
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return bytes_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace ringfile::bench
