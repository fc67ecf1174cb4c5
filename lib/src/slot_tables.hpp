// The producer and consumer tables in the header, as the hot paths use them: the open-claim
// seqlock, a producer's wait report, what a consumer slot's state and flags say, and the producer
// limit of the block policy. Taking, publishing, giving back and reclaiming the slots of both
// tables is their life cycle, in slot_life_cycle.hpp.
#pragma once

#include <array>
#include <cstdint>

#include "atomics.hpp"
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
  // A claim a producer can have made: whole frames, at most two of the largest (padding to the
  // lap's end, then the frame). Anything else is a damaged or forged table entry, and padding up
  // to its end could run past what any producer reserved (or past 32-bit frame lengths).
  bool plausible(const Geometry& geometry) const noexcept {
    return end % format::kFrameAlignment == 0 && end - start <= 2 * geometry.max_frame_stride;
  }
  // Whether the claim, made at time_ns, is more than `timeout_ns` older than `now_ns` (realtime):
  // past the unblock timeout, consumers pad it over and it holds nobody back. A time further
  // ahead of now than the timeout and a second is none a producer stamped (a damaged or forged
  // table entry, or a clock set back by more): outlived too, so that no time in the slot holds
  // the ring for ever. The second: a claim's precise time may run ahead of a coarse reading of
  // now by a clock tick, and of another CPU's reading by the skew between them.
  bool outlived(std::uint64_t now_ns, std::uint64_t timeout_ns) const noexcept {
    constexpr std::uint64_t kClockSlackNs = 1'000'000'000;
    if (now_ns >= time_ns) return now_ns - time_ns > timeout_ns;
    return time_ns - now_ns > timeout_ns + kClockSlackNs;
  }
};

// @pre called by the slot's owner only. Readers see either the old or the new claim, whole.
void publish_claim(format::ProducerSlot& slot, const OpenClaim& claim) noexcept;
// Closes the claim publish_claim opened, in one store: its start moved to its end. No seqlock
// round is needed: a reader whose loads take the new start with the claim's end reads it closed,
// one that takes the old start reads it open as it was just before, and one whose loads straddle
// the next publish_claim sees the sequence change and reads again. One store in place of
// publish_claim's five: about 2 ns of a 64-byte Producer::write of 28 (bench/README.md). The claim's
// time stays (a closed claim's time means nothing).
// @pre called by the slot's owner only, and `end` is the end of its open claim.
inline void close_published_claim(format::ProducerSlot& slot, std::uint64_t end) noexcept {
  // Release: publishes what the owner did before closing (its committed frames, its next
  // sequence) to a reader that finds the claim closed (read_claim's acquire fence).
  atomic_field(slot.claim_start).store(end, std::memory_order_release);
}

// Reads the slot's claim, retrying while its owner is changing it.
OpenClaim read_claim(const format::ProducerSlot& slot) noexcept;

ProcessIdentity owner_of(const format::ProducerSlot& slot) noexcept;
ProcessIdentity owner_of(const format::ConsumerSlot& slot) noexcept;

// How far producers may reserve without reaching into another producer's open claim from the
// lap before: the oldest claim's start plus the capacity (the head plus the capacity when there
// is none). A live claim older than the unblock timeout does not count: consumers pad it over,
// and its late commit fails. A claim whose owner is gone counts until it is closed: the padding
// written over its frames (by consumers, or close_abandoned_claim) must land in the lap it was
// for, never in the records of the next one. `abandoned_slot` names such a claim when it is the
// one that sets the limit (kProducerSlotCount otherwise).
// @pre called by the producer that owns `own_slot`, with no claim of its own open.
struct ClaimsLimit {
  std::uint64_t end = 0;
  std::uint32_t abandoned_slot = format::kProducerSlotCount;
};
ClaimsLimit open_claims_limit(const RingFile& file, std::uint32_t own_slot) noexcept;

// How far the old lap's bytes may be invalidated ahead of the head (the paging engine): the
// oldest live claim younger than the unblock timeout plus the capacity, from any slot. Such a
// claim is being filled, and its bytes lie where the next lap's do. A claim whose owner is gone
// does not count: its bytes are only ever padded over (zeros read as uncommitted, as the earlier
// lap's bytes do), and a reservation it blocks closes it (or a producer taking its slot), so
// the preparation must not wait for it.
std::uint64_t live_claims_limit(const RingFile& file) noexcept;

// Whether the producer slot's owner is gone: the slot freed, or its process dead.
bool producer_gone(const format::ProducerSlot& slot) noexcept;

// Whether an open claim in any producer slot covers `position`, whoever owns it.
bool claim_covers(const format::FileHeader& header, std::uint64_t position) noexcept;

// Pads over every uncommitted frame in [start, end), the claim of slot `slot_index` whose owner
// is gone, up to the first frame another slot's claim covers. @pre the claim is still open in
// the slot, so that producers cannot reserve its space a lap later meanwhile (open_claims_limit).
void pad_abandoned_range(const RingFile& file, DataView& view, std::uint32_t slot_index, std::uint64_t start,
                         std::uint64_t end) noexcept;

// What a producer shows in its slot while it waits for space (ringfile-status: WAITING, since
// when, for what). A program that waits in slices (claim with a short timeout, then look at its
// signals, then claim again) keeps the start of its first slice.
// @pre used by the slot's owner only.
class WaitReport {
 public:
  WaitReport() = default;
  explicit WaitReport(format::ProducerSlot& slot) noexcept : slot_(&slot) {}
  // A claim found no space and waits, for `cause` (format::kWaitForConsumer + slot index,
  // format::kWaitForPreparation, or 0 when unknown).
  void waiting(std::uint64_t cause) noexcept;
  // The wait is over: with space, or by the claim's timeout. `total_waited_ns`: the owner's time
  // spent waiting, in total.
  void ended(bool got_space, std::uint64_t total_waited_ns) noexcept;

 private:
  format::ProducerSlot* slot_ = nullptr;
  std::uint64_t since_us_ = 0;  // start of the wait shown, 0 when none
  std::uint64_t cause_ = 0;
  std::uint64_t since_us_timed_out_ = 0;  // start of the wait a timeout ended
  std::uint64_t timed_out_at_ns_ = 0;     // monotonic; a claim soon after continues that wait
};

// ---- consumer slots --------------------------------------------------------------------------

// The slot's state. Acquire: pairs with the release store of state that ends every transition
// of the slot's life cycle (slot_life_cycle.hpp), so what the transition wrote is seen with it.
inline format::ConsumerState state_of(const format::ConsumerSlot& slot) noexcept {
  return static_cast<format::ConsumerState>(load_field(slot.state, std::memory_order_acquire));
}

// ---- consumers holding producers back (block policy) ------------------------------------------

// What a consumer slot's flags say, for an active slot under the block policy: it holds
// producers back (asked to, and not expired since its owner died) ...
constexpr bool holds_back(std::uint32_t flags) noexcept {
  return (flags & format::kConsumerHoldsBack) != 0 && (flags & format::kConsumerExpired) == 0;
}
// ... and does so as a follower, within the hold window of the head.
constexpr bool is_following(std::uint32_t flags) noexcept {
  return holds_back(flags) && (flags & format::kConsumerFollowing) != 0;
}

// Where the bytes a consumer's cursor keeps from producers start: the cursor itself, or, in a file
// that takes group frames, a group's span before it, since a cursor inside a group resumes
// through the group's header (Geometry::group_span).
inline std::uint64_t kept_from_cursor(const Geometry& geometry, std::uint64_t cursor) noexcept {
  return cursor > geometry.group_span ? cursor - geometry.group_span : 0;
}

// Makes producers respect a cursor just stored at `position` (a consumer attaching, an operator
// moving a holding cursor back): lowers the shared limit to what it keeps plus the capacity, then looks at the
// head and the preparation frontier, which tell what producers or the paging engine had already
// gone past:
enum class CursorHold {
  whole,        // nothing the cursor keeps: producers now respect it
  record_only,  // only what is kept behind the cursor (a cursor among the oldest records):
                // producers wait below the head; the record at the cursor is intact, but where the
                // cursor lies inside a group, its header may be gone
  passed,       // the record at `position` may be overwritten: the caller must move the cursor
                // to the oldest intact record (which releases producers waiting for it)
};
CursorHold hold_producers_at(RingFile& file, std::uint64_t position) noexcept;

// Remembers, per consumer slot, when its owner was last checked, so that a blocked producer does
// not read /proc on every attempt.
class ConsumerLivenessChecks {
 public:
  // True when the slot's owner should be checked now (at most every 100 ms per slot).
  bool due(std::uint32_t slot_index, std::uint64_t now_ns) noexcept;
  // A check found `owner` alive at `realtime_now_ns` (CLOCK_REALTIME, as heartbeats).
  void saw_alive(std::uint32_t slot_index, const ProcessIdentity& owner, std::uint64_t realtime_now_ns) noexcept;
  // When a check last found `owner` alive in the slot; 0 when none did.
  std::uint64_t last_seen_alive_ns(std::uint32_t slot_index, const ProcessIdentity& owner) const noexcept;

 private:
  std::array<std::uint64_t, format::kConsumerSlotCount> next_check_ns_{};
  std::array<ProcessIdentity, format::kConsumerSlotCount> seen_owner_{};
  std::array<std::uint64_t, format::kConsumerSlotCount> seen_alive_ns_{};
};

// Recomputes the producer limit from the cursors of holding consumers (a follower's cursor plus
// the hold window, anyone else's plus the capacity) and raises the shared limit to it (or lowers
// one more than a lap past the head, which the library never sets: a damaged header); dead
// anonymous consumers are reclaimed and dead named ones expire after the grace period on the way.
// Returns the limit now in force. When it is below `needed_end`, `*slowest_slot` (if given) names
// the holding consumer that keeps it there (kConsumerSlotCount when none).
std::uint64_t refresh_producer_limit(RingFile& file, std::uint64_t needed_end, ConsumerLivenessChecks& checks,
                                     std::uint32_t* slowest_slot = nullptr) noexcept;
// Lowers the shared producer limit to `wanted_limit` if it is higher (a consumer attaching, or
// starting to follow).
void lower_producer_limit(RingFile& file, std::uint64_t wanted_limit) noexcept;
// Lowers the shared limit to what the holding consumers allow now: after the hold window shrank
// (the limit is otherwise only recomputed when producers reach it).
void tighten_producer_limit(RingFile& file) noexcept;

}  // namespace ringfile::detail
