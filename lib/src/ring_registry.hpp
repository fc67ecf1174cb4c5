// The rings open on this machine, so that their memory budgets add up to the share of memory set
// aside for rings (memory_budget.hpp) however many are open.
//
// One file per ring in a shared directory (/dev/shm/ringfile-rings, mode 1777), named by the
// ring's device and inode. Every process that runs the paging engine on a ring holds a shared
// flock on that ring's file; a file nobody holds a lock on is left over by processes that are
// gone (the kernel drops flocks with the process), and whoever counts removes it. No pids, no
// clean-up step: a crash leaves nothing that counts.
#pragma once

#include <cstdint>

namespace ringfile::detail {

class RingRegistration {
 public:
  // Registers the ring open as `ring_fd` for as long as this object lives. Without a usable
  // registry directory it registers nothing, and the ring counts as the only one.
  explicit RingRegistration(int ring_fd) noexcept;
  ~RingRegistration();
  RingRegistration(const RingRegistration&) = delete;
  RingRegistration& operator=(const RingRegistration&) = delete;

  // The rings registered by live processes, at least 1.
  static std::uint64_t count_open_rings() noexcept;

 private:
  int entry_fd_ = -1;
};

}  // namespace ringfile::detail
