// How much of the page cache the paging engine may give each ring: a share of the memory the
// ring's processes may use, divided among the rings open on the machine.
//
// The memory is the limit of the process's memory cgroup (the page cache of the ring counts
// against it, and past it the kernel evicts the oldest pages first: for a lagging reader exactly
// the ones it needs next), else MemAvailable. Half of it goes to rings, so that the processes'
// own memory and everything else on the machine keep the other half. The rings open on the
// machine are counted through a small registry (ring_registry.hpp). Rings on disk that the engine
// does not work on hold all their pages: up to half the rings' share, that comes off the share
// first, and the engine's rings divide the rest.
#pragma once

#include <cstdint>

namespace ringfile::detail {

// The share of the memory that the rings open on the machine may hold in the page cache.
inline constexpr std::uint64_t kRingMemorySharePercent = 50;

// The memory this process may use: the lowest memory cgroup limit on its path (v1
// hierarchical_memory_limit, v2 memory.max of each ancestor), else MemAvailable; never more
// than MemTotal. 0 when none of them can be read.
std::uint64_t memory_for_rings() noexcept;

struct MemoryBudget {
  std::uint64_t memory_bytes = 0;   // memory_for_rings()
  std::uint64_t rings_sharing = 1;  // rings the engine works on, open on the machine, this one included
  std::uint64_t whole_bytes = 0;    // what came off the memory first for the rings kept whole
  std::uint64_t ring_bytes = 0;     // this ring's share of the page cache
};

// What the rings on disk kept whole in memory may hold together, of `memory_bytes`: half the
// rings' share. Automatic paging keeps no more whole (paging.hpp), and the engine's rings keep
// the other half whatever rings were made without paging.
std::uint64_t whole_rings_allowance(std::uint64_t memory_bytes) noexcept;

// The budget of one ring among `rings_sharing` that the engine works on, beside rings kept whole
// of `whole_bytes` in all.
MemoryBudget share_memory(std::uint64_t memory_bytes, std::uint64_t rings_sharing,
                          std::uint64_t whole_bytes = 0) noexcept;

}  // namespace ringfile::detail
