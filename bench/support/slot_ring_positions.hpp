// The positions of the fixed-slot SPSC ring the benchmarks measure ringfile against (the
// throughput ceiling, `slot_ring`, and the ping-pong's `slot_ring_spin`): at the start of the
// ring's shared memory, the slots after them. Each position is on a cache line of its own, so a
// side's stores never evict a line the other side spins on for another reason.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ringfile::bench {

inline constexpr std::size_t kCacheLineBytes = 64;

// `kReaders`: how many receivers read every record (a broadcast ring waits for the slowest).
template <std::size_t kReaders>
struct SlotRingPositions {
  static_assert(kReaders >= 1);
  // Records written. Stored by the sender only (release, after the records' bytes), loaded by
  // the receivers (acquire, before reading them).
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> written{0};
  // Records each receiver is done with. Stored by that receiver only (release, after it read
  // them), loaded by the sender (acquire, before it overwrites their slots).
  struct alignas(kCacheLineBytes) ReadPosition {
    std::atomic<std::uint64_t> value{0};
  };
  ReadPosition read[kReaders];
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "positions are shared between processes: they must be lock-free atomics");
static_assert(sizeof(SlotRingPositions<1>) == 2 * kCacheLineBytes, "each position on a cache line of its own");
static_assert(sizeof(SlotRingPositions<8>) == 9 * kCacheLineBytes, "each position on a cache line of its own");

}  // namespace ringfile::bench
