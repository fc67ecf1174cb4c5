// One entry of the producer table: who is writing, and which claim it holds open.
//
//   0    +------------------------------------------------------------+
//        | state | reserved | owner_pid | owner_start_time | attach_ns |  identity line
//        |        written under the file lock when acquired/released    |
//   64   +------------------------------------------------------------+
//        | claim_sequence | claim_start | claim_end | claim_time_ns    |  owner's line
//        | next_sequence | committed_records | committed_bytes | spare |
//   128  +------------------------------------------------------------+
//
// A consumer that finds an uncommitted frame below the head looks here for the claim that covers
// it: a dead owner's claim is padded over at once, a live owner's after the unblock timeout.
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

struct alignas(kCacheLineBytes) ProducerSlot {
  // Identity line.
  std::uint32_t state;             // ProducerState
  std::uint32_t reserved;
  std::uint64_t owner_pid;
  std::uint64_t owner_start_time;  // /proc/PID/stat starttime: a recycled pid is not the owner
  std::uint64_t attach_time_ns;
  std::uint8_t identity_padding[32];
  // Owner's line. The claim fields form a seqlock: claim_sequence is odd while they change.
  std::uint64_t claim_sequence;
  std::uint64_t claim_start;       // first position of the open claim (padding included)
  std::uint64_t claim_end;         // one past its last position; start == end: none open
  std::uint64_t claim_time_ns;     // CLOCK_REALTIME when the claim was reserved
  std::uint64_t next_sequence;     // sequence of the next record; continues across owners
  std::uint64_t committed_records;
  std::uint64_t committed_bytes;
  std::uint64_t spare;
};
static_assert(std::is_trivially_copyable_v<ProducerSlot>);
static_assert(sizeof(ProducerSlot) == 2 * kCacheLineBytes);
static_assert(offsetof(ProducerSlot, owner_pid) == 8);
static_assert(offsetof(ProducerSlot, claim_sequence) == kCacheLineBytes);
static_assert(offsetof(ProducerSlot, next_sequence) == 96);
static_assert(offsetof(ProducerSlot, spare) == 120);

}  // namespace ringfile::format
