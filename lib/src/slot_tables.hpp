// The producer and consumer tables in the header: taking and releasing slots, the open-claim
// seqlock, the producer limit of the block policy, and what happens to slots of dead processes.
#pragma once

#include <array>
#include <cstdint>

#include "data_view.hpp"
#include "process_identity.hpp"
#include "ring_file.hpp"
#include "ringfile/format/file_header.hpp"

namespace ringfile::detail {

// ---- producer slots -------------------------------------------------------------------------

struct OpenClaim {
  std::uint64_t start = 0;
  std::uint64_t end = 0;  // start == end: no claim open
  std::uint64_t time_ns = 0;
  bool open() const noexcept { return end > start; }
};

// @pre called by the slot's owner only. Readers see either the old or the new claim, whole.
void publish_claim(format::ProducerSlot& slot, const OpenClaim& claim) noexcept;
// Reads the slot's claim, retrying while its owner is changing it.
OpenClaim read_claim(const format::ProducerSlot& slot) noexcept;

ProcessIdentity owner_of(const format::ProducerSlot& slot) noexcept;
ProcessIdentity owner_of(const format::ConsumerSlot& slot) noexcept;

// Takes a free slot (or one whose owner died), padding over any claim its last owner left open.
// Throws Error(table_full).
std::uint32_t acquire_producer_slot(RingFile& file);
void release_producer_slot(RingFile& file, std::uint32_t slot_index) noexcept;

// How far producers may reserve without reaching into another producer's open claim from the
// lap before: the oldest live claim's start plus the capacity (the head plus the capacity when
// there is none). A claim whose owner is gone, or that is older than the unblock timeout, does
// not count: consumers pad it over, and its late commit fails. @pre called by the producer that
// owns `own_slot`, with no claim of its own open.
std::uint64_t open_claims_limit(const RingFile& file, std::uint32_t own_slot) noexcept;

// Pads over every uncommitted frame in [start, end), the claim of slot `slot_index` whose owner
// is gone, up to the first frame another slot's claim covers.
void pad_abandoned_range(const RingFile& file, DataView& view, std::uint32_t slot_index, std::uint64_t start,
                         std::uint64_t end) noexcept;

// ---- consumers holding producers back (block policy) ------------------------------------------

// Remembers, per consumer slot, when its owner was last checked, so that a blocked producer does
// not read /proc on every attempt.
class ConsumerLivenessChecks {
 public:
  // True when the slot's owner should be checked now (at most every 100 ms per slot).
  bool due(std::uint32_t slot_index, std::uint64_t now_ns) noexcept;

 private:
  std::array<std::uint64_t, format::kConsumerSlotCount> next_check_ns_{};
};

// Recomputes the producer limit from the cursors of holding consumers (a follower's cursor plus
// the hold window, anyone else's plus the capacity) and raises the shared limit to it; dead
// anonymous consumers are reclaimed and dead named ones expire after the grace period on the way.
// Returns the limit now in force.
std::uint64_t refresh_producer_limit(RingFile& file, std::uint64_t needed_end,
                                     ConsumerLivenessChecks& checks) noexcept;
// Lowers the shared producer limit to `wanted_limit` if it is higher (a consumer attaching, or
// starting to follow).
void lower_producer_limit(RingFile& file, std::uint64_t wanted_limit) noexcept;
// Lowers the shared limit to what the holding consumers allow now: after the hold window shrank
// (the limit is otherwise only recomputed when producers reach it).
void tighten_producer_limit(RingFile& file) noexcept;

}  // namespace ringfile::detail
