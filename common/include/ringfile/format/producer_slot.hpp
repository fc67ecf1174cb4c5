// One entry of the producer table: who is writing, and which claim it holds open.
//
//   0    +------------------------------------------------------------+
//        | state | reserved | owner_pid | owner_start_time | attach_ns |  identity line
//        | wait_state | padding[24]                                    |
//   64   +------------------------------------------------------------+
//        | claim_sequence | claim_start | claim_end | claim_time_ns    |  owner's line
//        | next_sequence | committed_records | committed_bytes          |
//        | waited_ns                                                    |
//   128  +------------------------------------------------------------+
//
// The identity line is written under the file lock when the slot is acquired or released, and
// wait_state by its owner when it starts or stops waiting for space (a slow path). The owner's
// line is written by the owner only.
//
// A consumer that finds an uncommitted frame below the head looks here for the claim that covers
// it: a dead owner's claim is padded over at once, a live owner's after the unblock timeout.
//
// wait_state and waited_ns were added in format 1.1 (zero, as in 1.0 files: not waiting).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ringfile/format/layout.hpp"

namespace ringfile::format {

enum class ProducerState : std::uint32_t {
  free = 0,
  active = 1,
};

// wait_state: 0 while the owner is not waiting for space. Else the CLOCK_REALTIME microsecond at
// which it began to wait, shifted left by kWaitCauseBits, with what it waits for in the low bits:
// a consumer (kWaitForConsumer + its slot), another producer's claim still open a lap behind, or
// the paging engine's preparation ahead of the head.
// One word, so that a reader never pairs the start of one wait with the cause of another.
inline constexpr unsigned kWaitCauseBits = 8;
inline constexpr std::uint64_t kWaitForConsumer = 1;      // + consumer slot index (0..63)
inline constexpr std::uint64_t kWaitForOpenClaim = 0xFD;
inline constexpr std::uint64_t kWaitForPreparation = 0xFE;

constexpr std::uint64_t make_wait_state(std::uint64_t since_us, std::uint64_t cause) noexcept {
  return since_us << kWaitCauseBits | (cause & ((1u << kWaitCauseBits) - 1));
}
constexpr std::uint64_t wait_state_since_us(std::uint64_t state) noexcept { return state >> kWaitCauseBits; }
constexpr std::uint64_t wait_state_cause(std::uint64_t state) noexcept {
  return state & ((1u << kWaitCauseBits) - 1);
}
static_assert(wait_state_since_us(make_wait_state(1'800'000'000'000'000, kWaitForPreparation)) ==
              1'800'000'000'000'000);
static_assert(wait_state_cause(make_wait_state(12345, kWaitForConsumer + 63)) == 64);

struct alignas(kCacheLineBytes) ProducerSlot {
  // Identity line.
  std::uint32_t state;             // ProducerState
  std::uint32_t reserved;
  std::uint64_t owner_pid;
  std::uint64_t owner_start_time;  // /proc/PID/stat starttime: a recycled pid is not the owner
  std::uint64_t attach_time_ns;
  std::uint64_t wait_state;        // see make_wait_state; written by the owner
  std::uint8_t identity_padding[24];
  // Owner's line. The claim fields form a seqlock: claim_sequence is odd while a claim is
  // published. Closing a claim is one store, claim_start moved to claim_end.
  std::uint64_t claim_sequence;
  std::uint64_t claim_start;       // first position of the open claim (padding included)
  std::uint64_t claim_end;         // one past its last position; start == end: none open
  std::uint64_t claim_time_ns;     // CLOCK_REALTIME when the claim was reserved
  std::uint64_t next_sequence;     // sequence of the next record; continues across owners
  std::uint64_t committed_records;
  std::uint64_t committed_bytes;
  std::uint64_t waited_ns;         // time the current owner spent waiting for space, in total
};
static_assert(std::is_trivially_copyable_v<ProducerSlot>);
static_assert(sizeof(ProducerSlot) == 2 * kCacheLineBytes);
static_assert(offsetof(ProducerSlot, owner_pid) == 8);
static_assert(offsetof(ProducerSlot, claim_sequence) == kCacheLineBytes);
static_assert(offsetof(ProducerSlot, next_sequence) == 96);
static_assert(offsetof(ProducerSlot, wait_state) == 32);
static_assert(offsetof(ProducerSlot, waited_ns) == 120);

}  // namespace ringfile::format
