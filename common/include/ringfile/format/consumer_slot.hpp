// One entry of the consumer table: a reader, its cursor and whether it holds producers back.
//
//   0    +------------------------------------------------------------+
//        | state | flags | owner_pid | owner_start_time | attach_ns    |  identity line
//        | name[32] (NUL padded; empty = anonymous)                    |
//   64   +------------------------------------------------------------+
//        | cursor | heartbeat_ns | consumed_records | lost_bytes       |  owner's line
//        | lost_records | expire_after_ms | spare[2]                  |
//   128  +------------------------------------------------------------+
//
// The identity line changes under the file lock (attach, detach, reclaim, delete) and through
// atomic updates of flags (producers expire a dead consumer; the owner marks itself following).
// The owner's line is written by the owner; under the file lock, while no live process owns the
// slot, also by an operator's reset of the cursor (lib/src/consumer_table.cpp).
//
// A named consumer that is not attached (detached, or its owner dead) for longer than its
// expire_after_ms since its last heartbeat is past expiry: it no longer counts and its slot may be
// taken by another consumer. expire_after_ms was added in format 1.1 (0, as in 1.0 files: never).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ringfile/format/layout.hpp"

namespace ringfile::format {

inline constexpr std::size_t kConsumerNameBytes = 32;  // including the terminating NUL

enum class ConsumerState : std::uint32_t {
  free = 0,
  active = 1,    // owned by a process (alive or not: check owner_pid/owner_start_time)
  detached = 2,  // named consumer with no owner; cursor kept for its return
};

enum ConsumerFlags : std::uint32_t {
  kConsumerHoldsBack = 1u << 0,  // block policy: producers wait for this cursor
  kConsumerNamed = 1u << 1,      // cursor survives detach
  kConsumerExpired = 1u << 2,    // dead past the grace period: no longer holds back
  // Block policy, set by the holding consumer itself once it is within the hold window of the
  // head: producers stay within the hold window ahead of it, so what it has not read stays in
  // memory. Cleared only when the slot is taken anew (a consumer attaching far behind replays).
  kConsumerFollowing = 1u << 3,
};

struct alignas(kCacheLineBytes) ConsumerSlot {
  // Identity line.
  std::uint32_t state;  // ConsumerState
  std::uint32_t flags;  // ConsumerFlags
  std::uint64_t owner_pid;
  std::uint64_t owner_start_time;
  std::uint64_t attach_time_ns;
  char name[kConsumerNameBytes];
  // Owner's line.
  std::uint64_t cursor;            // committed position: resume point and producer bound
  std::uint64_t heartbeat_ns;      // CLOCK_REALTIME of the owner's last poll or wait, or detach
  std::uint64_t consumed_records;
  std::uint64_t lost_bytes;        // skipped because producers lapped this consumer
  std::uint64_t lost_records;
  std::uint64_t expire_after_ms;   // named: reusable this long after it was last seen; 0 never
  std::uint64_t spare[2];
};
static_assert(std::is_trivially_copyable_v<ConsumerSlot>);
static_assert(sizeof(ConsumerSlot) == 2 * kCacheLineBytes);
static_assert(offsetof(ConsumerSlot, name) == 32);
static_assert(offsetof(ConsumerSlot, cursor) == kCacheLineBytes);
static_assert(offsetof(ConsumerSlot, lost_records) == 96);
static_assert(offsetof(ConsumerSlot, expire_after_ms) == 104);

}  // namespace ringfile::format
