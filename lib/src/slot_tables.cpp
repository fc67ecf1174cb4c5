#include "slot_tables.hpp"

#include <algorithm>
#include <limits>

#include "atomics.hpp"
#include "clock.hpp"
#include "frames.hpp"
#include "paging.hpp"
#include "ringfile/error.hpp"
#include "slot_life_cycle.hpp"

namespace ringfile::detail {

using format::ConsumerState;
using format::ProducerState;

void publish_claim(format::ProducerSlot& slot, const OpenClaim& claim) noexcept {
  auto sequence = atomic_field(slot.claim_sequence);
  // Relaxed: only the owner writes the sequence.
  const std::uint64_t before = sequence.load(std::memory_order_relaxed);
  // Odd while changing; the release fence orders that mark before the field stores, so a reader
  // that sees a new field also sees the odd sequence (seqlock writer side).
  sequence.store(before + 1, std::memory_order_relaxed);
  release_fence();
  // Relaxed: ordered by the fence above and the release store below (seqlock).
  atomic_field(slot.claim_start).store(claim.start, std::memory_order_relaxed);
  atomic_field(slot.claim_end).store(claim.end, std::memory_order_relaxed);
  atomic_field(slot.claim_time_ns).store(claim.time_ns, std::memory_order_relaxed);
  // Release: pairs with the reader's acquire load of the sequence.
  sequence.store(before + 2, std::memory_order_release);
}

OpenClaim read_claim(const format::ProducerSlot& slot) noexcept {
  // A writer takes nanoseconds; one that stays in the middle was killed or stopped there, or the
  // slot was forged so. Such a slot owns no reserved space (a claim is published before the head
  // moves, and a new one only after the last was closed), so it reads as no claim at all, soon:
  // searches test many positions against all 64 slots (100,000 attempts a slot made one look
  // over slots forged odd take seconds, and a scan of forged frames hours).
  constexpr int kAttempts = 64;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::uint64_t before = load_field(slot.claim_sequence, std::memory_order_acquire);
    OpenClaim claim;
    // Relaxed: ordered by the acquire load above and the acquire fence below (seqlock).
    claim.start = load_field(slot.claim_start, std::memory_order_relaxed);
    claim.end = load_field(slot.claim_end, std::memory_order_relaxed);
    claim.time_ns = load_field(slot.claim_time_ns, std::memory_order_relaxed);
    // Acquire fence: the field loads above complete before the sequence is read again; and a
    // start loaded from close_published_claim's release store makes what the owner did before
    // closing visible.
    acquire_fence();
    const std::uint64_t after = load_field(slot.claim_sequence, std::memory_order_relaxed);
    if (before == after && before % 2 == 0) return claim;
    cpu_relax();
  }
  return {};
}

// Acquire: pairs with the release store of the owner's pid (a producer) or of the slot's state,
// which the owner stores after them.
ProcessIdentity owner_of(const format::ProducerSlot& slot) noexcept {
  return {load_field(slot.owner_pid, std::memory_order_acquire),
          load_field(slot.owner_start_time, std::memory_order_acquire)};
}

ProcessIdentity owner_of(const format::ConsumerSlot& slot) noexcept {
  return {load_field(slot.owner_pid, std::memory_order_acquire),
          load_field(slot.owner_start_time, std::memory_order_acquire)};
}

namespace {

// How far the frame at `position` may be padded over as abandoned: 0 while a live producer of
// another slot claims it (it is that producer's), else the nearest end among the dead claims
// that cover it (one of them is the real owner's reservation, the others claims published by
// producers killed before they moved the head).
std::uint64_t abandoned_until(const RingFile& file, std::uint32_t self, std::uint64_t position,
                              std::uint64_t end) noexcept {
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    if (index == self) continue;
    const auto& slot = file.header().producers[index];
    const OpenClaim claim = read_claim(slot);
    if (position < claim.start || position >= claim.end) continue;
    if (!producer_gone(slot)) return 0;
    if (claim.plausible(file.geometry())) end = std::min(end, claim.end);
  }
  return end;
}

}  // namespace

bool producer_gone(const format::ProducerSlot& slot) noexcept {
  // Acquire: pairs with the release store of state that publishes or frees a producer's slot.
  return atomic_field(slot.state).load(std::memory_order_acquire) == static_cast<std::uint32_t>(ProducerState::free) ||
         !is_alive(owner_of(slot));
}

bool claim_covers(const format::FileHeader& header, std::uint64_t position) noexcept {
  for (const auto& slot : header.producers) {
    const OpenClaim claim = read_claim(slot);
    if (position >= claim.start && position < claim.end) return true;
  }
  return false;
}

namespace {

enum class AbandonedClaims { hold, ignored };

ClaimsLimit claims_limit(const RingFile& file, std::uint32_t own_slot, AbandonedClaims abandoned) noexcept {
  const auto& header = file.header();
  const std::uint64_t capacity = file.geometry().capacity;
  // The head first (seq_cst, as the claimants' head CAS): a claim published after this load
  // starts at or after it, so head + capacity already keeps clear of it; one published before
  // it was published before its head CAS, so the scan below sees it.
  const std::uint64_t head = load_field(header.head_position.value, std::memory_order_seq_cst);
  const auto unblock_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(file.info().unblock_timeout).count());
  const std::uint64_t now = coarse_realtime_ns();
  std::uint64_t oldest = head;
  std::uint32_t oldest_abandoned = format::kProducerSlotCount;
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    if (index == own_slot) continue;
    const auto& slot = header.producers[index];
    const OpenClaim claim = read_claim(slot);
    if (!claim.open() || claim.start >= oldest || claim.end <= head - std::min(head, capacity)) continue;
    if (!claim.plausible(file.geometry())) continue;  // a damaged table entry holds nobody back
    // The age first: an outlived claim is skipped whoever owns it (for the preparation, which
    // asks at every chunk, that saves a look at /proc).
    const bool outlived = claim.outlived(now, unblock_ns);
    if (outlived && abandoned == AbandonedClaims::ignored) continue;
    const bool gone = producer_gone(slot);
    if (gone ? abandoned == AbandonedClaims::ignored : outlived) continue;
    oldest = claim.start;
    oldest_abandoned = gone ? index : format::kProducerSlotCount;
  }
  return {oldest + capacity, oldest_abandoned};
}

}  // namespace

ClaimsLimit open_claims_limit(const RingFile& file, std::uint32_t own_slot) noexcept {
  return claims_limit(file, own_slot, AbandonedClaims::hold);
}

std::uint64_t live_claims_limit(const RingFile& file) noexcept {
  return claims_limit(file, format::kProducerSlotCount, AbandonedClaims::ignored).end;
}

void pad_abandoned_range(const RingFile& file, DataView& view, std::uint32_t slot_index, std::uint64_t start,
                         std::uint64_t end) noexcept {
  const Geometry& geometry = file.geometry();
  // Acquire: pairs with the producers' head CAS.
  const std::uint64_t head =
      atomic_field(file.header().head_position.value).load(std::memory_order_acquire);
  // Space a lap behind the head has been reserved again by others: the old claim is gone.
  if (end + geometry.capacity <= head) return;
  // Claims span whole frames, at most two of the largest: anything else is not a claim (a damaged
  // table).
  if (start % format::kFrameAlignment != 0 || !OpenClaim{start, end, 0}.plausible(geometry)) return;
  // Space at and beyond the head was never reserved (the last owner died before moving the
  // head): a padding frame written there would hide the record the next producer puts there.
  end = std::min(end, head);
  std::uint64_t position = start;
  while (position < end) {
    std::byte* frame = view.at(geometry.offset_of(position), header_bytes_at(position, geometry));
    if (frame == nullptr) return;
    const FrameRead read = read_frame(frame, position, geometry);
    if (read.kind == FrameKind::data || read.kind == FrameKind::padding) {
      position += read.stride;
      continue;
    }
    // Uncommitted, or corrupt: until a commit an earlier lap's bytes are there, and 8 of them may
    // pass for a commit word of this lap with a type or length that is not one. Either way it is
    // padded over, unless another claim says whose it is: killed between publishing its claim
    // and moving the head, the last owner never reserved this space, and the producer that did
    // holds its own claim on it.
    const std::uint64_t padding_end =
        abandoned_until(file, slot_index, position, std::min(end, geometry.lap_end(position)));
    if (padding_end == 0) return;
    // A claim its owner reserved holds producers a lap behind it while open (open_claims_limit),
    // but one published by an owner killed before it moved the head may be older than the
    // limits producers last computed: its space may be in the next lap already, and what was
    // read is then newer records. Seq_cst, loaded after the frame's acquire load: when nobody had
    // reserved the next lap's bytes here, the frame read is this lap's.
    const std::uint64_t head_now = load_field(file.header().head_position.value, std::memory_order_seq_cst);
    if (head_now > position + geometry.capacity) return;
    if (pad_over(frame, position, padding_end - position, read.commit_word, geometry)) {
      position = padding_end;
    }
    // A failed CAS means the frame changed under us (its owner committed after all): re-read.
  }
}

void WaitReport::waiting(std::uint64_t cause) noexcept {
  // A wait that a claim's timeout ended a moment ago goes on: the program is waiting in slices.
  constexpr std::uint64_t kContinuedWithinNs = 1'000'000'000;
  if (since_us_ == 0) {
    const bool continued = timed_out_at_ns_ != 0 && monotonic_ns() - timed_out_at_ns_ < kContinuedWithinNs;
    if (!continued) timed_out_at_ns_ = 0;
    since_us_ = continued ? since_us_timed_out_ : realtime_ns() / 1000;
  } else if (cause == cause_) {
    return;
  }
  cause_ = cause;
  // Relaxed: a report for status; nothing is published with it.
  atomic_field(slot_->wait_state).store(format::make_wait_state(since_us_, cause_), std::memory_order_relaxed);
}

void WaitReport::ended(bool got_space, std::uint64_t total_waited_ns) noexcept {
  if (since_us_ == 0) return;
  // Relaxed: reports for status, as above.
  atomic_field(slot_->wait_state).store(0, std::memory_order_relaxed);
  atomic_field(slot_->waited_ns).store(total_waited_ns, std::memory_order_relaxed);
  since_us_timed_out_ = got_space ? 0 : since_us_;
  timed_out_at_ns_ = got_space ? 0 : monotonic_ns();
  since_us_ = 0;
}

bool ConsumerLivenessChecks::due(std::uint32_t slot_index, std::uint64_t now_ns) noexcept {
  if (now_ns < next_check_ns_[slot_index]) return false;
  next_check_ns_[slot_index] = now_ns + 100'000'000;
  return true;
}

void ConsumerLivenessChecks::saw_alive(std::uint32_t slot_index, const ProcessIdentity& owner,
                                       std::uint64_t realtime_now_ns) noexcept {
  seen_owner_[slot_index] = owner;
  seen_alive_ns_[slot_index] = realtime_now_ns;
}

std::uint64_t ConsumerLivenessChecks::last_seen_alive_ns(std::uint32_t slot_index,
                                                         const ProcessIdentity& owner) const noexcept {
  const ProcessIdentity& seen = seen_owner_[slot_index];
  return seen.pid == owner.pid && seen.start_time == owner.start_time ? seen_alive_ns_[slot_index] : 0;
}

CursorHold hold_producers_at(RingFile& file, std::uint64_t position) noexcept {
  auto& header = file.header();
  const std::uint64_t wanted_limit = kept_from_cursor(file.geometry(), position) + file.geometry().capacity;
  // seq_cst CAS: producers re-read the limit after every reservation (seq_cst), so either they
  // see this lower limit and wait before writing, or we see their reservation below.
  lower_producer_limit(file, wanted_limit);
  // seq_cst loads: the other half of the Dekker pairing with reserving producers (head CAS, then
  // limit load) and with the paging engine (preparing_end store, then limit load).
  const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_seq_cst);
  const std::uint64_t preparing = atomic_field(header.preparation.preparing_end).load(std::memory_order_seq_cst);
  const std::uint64_t frontier = std::max(head, preparing);
  if (frontier <= wanted_limit) return CursorHold::whole;
  // What producers keep behind a cursor (group_span, for a group's header) may be gone at a
  // cursor among the oldest records, where the record is not. Such a cursor (a consumer that
  // resumed or was reset to the oldest record and detached) counted as passed, and was moved, or
  // left holding nothing (found by a tester: a lap lost on a restart within the grace).
  return frontier <= position + file.geometry().capacity ? CursorHold::record_only : CursorHold::passed;
}

namespace {

// The lowest bound the holding consumers set: a follower's cursor plus the hold window, anyone
// else's plus the capacity; max() when none holds. With `checks`, a consumer whose bound is
// below `needed_end` and whose process is gone is reclaimed or expired on the way. `*lowest_slot`
// (if given) is set to the slot that sets the bound (kConsumerSlotCount when none).
std::uint64_t lowest_consumer_bound(RingFile& file, std::uint64_t needed_end, ConsumerLivenessChecks* checks,
                                    std::uint32_t* lowest_slot = nullptr) noexcept {
  auto& header = file.header();
  const std::uint64_t capacity = file.geometry().capacity;
  const std::uint64_t hold_window = hold_window_in_force(file);
  std::uint64_t lowest_bound = std::numeric_limits<std::uint64_t>::max();
  if (lowest_slot != nullptr) *lowest_slot = format::kConsumerSlotCount;
  std::uint64_t now_ns = 0;  // CLOCK_REALTIME, read at the first detached slot
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    auto& slot = header.consumers[index];
    const ConsumerState state = state_of(slot);
    if (state == ConsumerState::detached) {
      if (now_ns == 0) now_ns = realtime_ns();
      // Within the grace since its detach it holds as if attached (a sleeping producer looks
      // again at least every kSpaceRecheckNs, so it goes on soon after the grace is over).
      if (!detached_and_holding(file, slot, now_ns)) continue;
    } else if (state != ConsumerState::active) {
      continue;
    }
    // seq_cst: the following flag is set (seq_cst) before the consumer lowers the limit.
    const std::uint32_t flags = atomic_field(slot.flags).load(std::memory_order_seq_cst);
    if (!holds_back(flags)) continue;
    // seq_cst: pairs with the seq_cst cursor stores (a consumer's commit or attach, a reset).
    const std::uint64_t cursor = atomic_field(slot.cursor).load(std::memory_order_seq_cst);
    const std::uint64_t bound = kept_from_cursor(file.geometry(), cursor) + (is_following(flags) ? hold_window : capacity);
    // A detached slot producers already ran past (its grace over once, then the wall clock set
    // back into it) holds nothing: the record at its cursor is overwritten (found in review).
    // Not its bound: below the head for a cursor among the oldest records, still intact, as
    // hold_producers_at says.
    if (state == ConsumerState::detached &&
        cursor + capacity < atomic_field(header.head_position.value).load(std::memory_order_acquire)) {
      continue;
    }
    if (checks != nullptr && state == ConsumerState::active && bound < needed_end && checks->due(index, monotonic_ns())) {
      const ProcessIdentity owner = owner_of(slot);
      try {
        if (is_alive(owner)) {
          checks->saw_alive(index, owner, realtime_ns());
        } else if (release_dead_consumer(file, index, owner, checks->last_seen_alive_ns(index, owner))) {
          continue;
        }
      } catch (const Error&) {
        // The table lock failed (the file system went away): it keeps holding back for now,
        // and the next check tries again.
      }
    }
    if (bound < lowest_bound) {
      lowest_bound = bound;
      if (lowest_slot != nullptr) *lowest_slot = index;
    }
  }
  return lowest_bound;
}

}  // namespace

std::uint64_t refresh_producer_limit(RingFile& file, std::uint64_t needed_end, ConsumerLivenessChecks& checks,
                                     std::uint32_t* slowest_slot) noexcept {
  auto& header = file.header();
  const std::uint64_t capacity = file.geometry().capacity;
  auto limit = atomic_field(header.producer_limit.value);
  for (;;) {
    // seq_cst: pairs with the seq_cst CAS by which an attaching or following consumer lowers
    // the limit.
    std::uint64_t seen = limit.load(std::memory_order_seq_cst);
    // Acquire: pairs with the producers' head CAS. Loaded after the limit, it is at least the
    // head whoever stored that limit had loaded.
    const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_acquire);
    // Every limit stored is at most the head then plus a lap (a cursor is never past the head),
    // and the head only grows: a limit further out is none that anyone set (a damaged or forged
    // header), and trusted it would let producers overwrite what holding consumers have not
    // read. It is set again from the cursors.
    const bool set_by_the_library = seen <= head + capacity;
    if (set_by_the_library && needed_end <= seen) return seen;
    const std::uint64_t lowest_bound = lowest_consumer_bound(file, needed_end, &checks, slowest_slot);
    // A cursor past the head (forged) bounds nothing beyond what no consumer at all would.
    const std::uint64_t candidate = std::min(lowest_bound, head + capacity);
    if (set_by_the_library && candidate <= seen) return seen;
    // A failed CAS: another producer raised it or a consumer lowered it meanwhile; recompute.
    if (limit.compare_exchange_strong(seen, candidate, std::memory_order_seq_cst)) return candidate;
  }
}

void tighten_producer_limit(RingFile& file) noexcept {
  const std::uint64_t lowest_bound = lowest_consumer_bound(file, 0, nullptr);
  if (lowest_bound != std::numeric_limits<std::uint64_t>::max()) lower_producer_limit(file, lowest_bound);
}

void lower_producer_limit(RingFile& file, std::uint64_t wanted_limit) noexcept {
  auto limit = atomic_field(file.header().producer_limit.value);
  // seq_cst: pairs with producers' seq_cst loads of the limit (refresh_producer_limit, and the
  // re-check after every reservation).
  std::uint64_t seen = limit.load(std::memory_order_seq_cst);
  while (seen > wanted_limit && !limit.compare_exchange_weak(seen, wanted_limit, std::memory_order_seq_cst)) {
  }
}

}  // namespace ringfile::detail
