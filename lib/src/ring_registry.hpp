// The rings open on this machine, so that their memory budgets add up to the share of memory set
// aside for rings (memory_budget.hpp) however many are open.
//
// One file per ring in a shared directory (/dev/shm/ringfile-rings, mode 1777), named by the
// ring's device and inode. Every process that runs the paging engine on a ring holds a shared
// flock on that ring's file; so does every process that has a ring on disk open for writing that
// the engine does not work on, whose pages stay in memory whole, and such a ring's file holds its
// capacity. A file nobody holds a lock on is left over by processes that are gone (the kernel
// drops flocks with the process), and whoever counts removes it. No pids, no clean-up step: a
// crash leaves nothing that counts.
#pragma once

#include <cstdint>

namespace ringfile::detail {

// What the registry counts.
struct OpenRings {
  std::uint64_t paged = 0;        // rings the paging engine works on
  std::uint64_t whole_bytes = 0;  // the capacities of the rings on disk kept whole in memory
};

class RingRegistration {
 public:
  // Registers the ring open as `ring_fd` for as long as this object lives: as a ring the paging
  // engine works on, or, with `whole_bytes` (its capacity) not 0, as one kept whole in memory.
  // Without a usable registry directory it registers nothing, and the ring counts as the only one.
  explicit RingRegistration(int ring_fd, std::uint64_t whole_bytes = 0) noexcept;
  ~RingRegistration();
  RingRegistration(const RingRegistration&) = delete;
  RingRegistration& operator=(const RingRegistration&) = delete;

  // The rings registered by live processes.
  static OpenRings open_rings() noexcept;

 private:
  int entry_fd_ = -1;
};

}  // namespace ringfile::detail
