#include "slot_life_cycle.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <limits>

#include "atomics.hpp"
#include "clock.hpp"
#include "data_view.hpp"
#include "record_search.hpp"
#include "ringfile/error.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

using format::ConsumerState;
using format::ProducerState;

namespace {

constexpr std::uint32_t kNoSlot = std::numeric_limits<std::uint32_t>::max();

std::string describe(const RingFile& file) { return "'" + file.info().path.string() + "'"; }

bool named(const format::ConsumerSlot& slot) noexcept {
  // Acquire: pairs with the release store of state that published the flags with the slot.
  return (load_field(slot.flags, std::memory_order_acquire) & format::kConsumerNamed) != 0;
}

bool has_name(const format::ConsumerSlot& slot, const std::string& name) noexcept {
  return !name.empty() && std::strncmp(slot.name, name.c_str(), sizeof slot.name) == 0 &&
         name.size() < sizeof slot.name;
}

std::uint64_t grace_ns(const RingFile& file) {
  return static_cast<std::uint64_t>(std::chrono::nanoseconds(file.info().consumer_grace).count());
}

// Whether a dead consumer's last heartbeat is within the ring's grace period of `now_ns`, without
// adding to a heartbeat read from the file (2^64 - 1 plus the grace wrapped to "long ago"). A
// heartbeat up to a grace period ahead of now is a clock set back since; one further ahead is
// none a consumer wrote, and counts as past, or a dead consumer would hold producers for ever.
bool within_grace(const RingFile& file, std::uint64_t heartbeat_ns, std::uint64_t now_ns) noexcept {
  const std::uint64_t grace = grace_ns(file);
  return heartbeat_ns <= now_ns ? now_ns - heartbeat_ns < grace : heartbeat_ns - now_ns <= grace;
}

// A holding slot in `state` whose last heartbeat (a detach stores one) is within the grace period.
bool holding_within_grace(const RingFile& file, const format::ConsumerSlot& slot, ConsumerState state,
                          std::uint64_t now_ns) noexcept {
  if (state_of(slot) != state || file.policy() != WriterPolicy::block) return false;
  // Acquire: pairs with the consumer's seq_cst fetch_or/fetch_and of its flags.
  const std::uint32_t flags = load_field(slot.flags, std::memory_order_acquire);
  if (!holds_back(flags)) return false;
  // Relaxed: the heartbeat is advisory (consumer.cpp); a stale one errs towards holding.
  const std::uint64_t heartbeat = load_field(slot.heartbeat_ns, std::memory_order_relaxed);
  return within_grace(file, heartbeat, now_ns);
}

// A slot whose owner died within its grace period still holds producers back (block policy).
bool dead_and_holding(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept {
  return holding_within_grace(file, slot, ConsumerState::active, now_ns);
}

bool attached_alive(const format::ConsumerSlot& slot) noexcept {
  return state_of(slot) == ConsumerState::active && is_alive(owner_of(slot));
}

// The slot of the named consumer, or kNoSlot. @pre the table lock is held.
std::uint32_t find_named(const RingFile& file, const std::string& name) noexcept {
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    const auto& slot = file.header().consumers[index];
    if (state_of(slot) != ConsumerState::free && named(slot) && has_name(slot, name)) return index;
  }
  return kNoSlot;
}

// The named consumer an operator asks for, which must not be attached by a live process.
// @pre the table lock is held.
std::uint32_t operable_named(const RingFile& file, const std::string& name, const char* doing) {
  const std::uint32_t index = find_named(file, name);
  if (index == kNoSlot) {
    throw Error(ErrorCode::not_found,
                describe(file) + ": no consumer is named '" + name +
                    "'; ringfile-consumer --list shows the names (Ring::consumers() in the library)");
  }
  const auto& slot = file.header().consumers[index];
  if (attached_alive(slot)) {
    throw Error(ErrorCode::busy, describe(file) + ": cannot " + doing + " consumer '" + name +
                                     "' while live process " + std::to_string(owner_of(slot).pid) +
                                     " is attached to it; stop that consumer first (SIGINT or SIGTERM detaches it)");
  }
  return index;
}

void require_writable(const RingFile& file) {
  if (file.read_only()) {
    throw Error(ErrorCode::invalid_argument,
                describe(file) + " was opened read-only; managing consumers needs write access");
  }
}

// Pads over the claim the slot's last owner left open and closes it. Until it is closed, the
// claim keeps producers a lap behind it (open_claims_limit), so the padding lands in its own lap.
// @pre the table lock is held, and the slot's owner is gone.
void close_claim_left_open(RingFile& file, std::uint32_t slot_index) {
  auto& slot = file.header().producers[slot_index];
  // A last owner killed in the middle of publishing a claim left the sequence odd: even it out.
  auto sequence = atomic_field(slot.claim_sequence);
  if (sequence.load(std::memory_order_relaxed) % 2 != 0) sequence.fetch_add(1, std::memory_order_release);
  const OpenClaim left_open = read_claim(slot);
  if (!left_open.open()) return;
  DataView view(file, DataView::Access::read_write);
  pad_abandoned_range(file, view, slot_index, left_open.start, left_open.end);
  publish_claim(slot, {left_open.end, left_open.end, 0});
}

}  // namespace

bool detached_and_holding(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept {
  // Past its expiry (shorter than the grace) it counts no longer, holding included.
  return holding_within_grace(file, slot, ConsumerState::detached, now_ns) && !past_expiry(file, slot, now_ns);
}

bool holding_without_owner(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept {
  return dead_and_holding(file, slot, now_ns) || detached_and_holding(file, slot, now_ns);
}

// ---- producer slots -------------------------------------------------------------------------

std::uint32_t acquire_producer_slot(RingFile& file) {
  TableLock lock(file);
  auto& header = file.header();
  std::uint32_t free_closed = kNoSlot;
  std::uint32_t reusable = kNoSlot;  // free with an open claim, or owned by a dead process
  for (std::uint32_t index = 0; index < format::kProducerSlotCount && free_closed == kNoSlot; ++index) {
    auto& slot = header.producers[index];
    // Acquire: pairs with the release store of state by the slot's last owner or taker.
    const auto state = static_cast<ProducerState>(atomic_field(slot.state).load(std::memory_order_acquire));
    if (state == ProducerState::free) {
      if (!read_claim(slot).open()) {
        free_closed = index;
      } else if (reusable == kNoSlot) {
        reusable = index;
      }
    } else if (reusable == kNoSlot && !is_alive(owner_of(slot))) {
      reusable = index;
    }
  }
  const std::uint32_t chosen = free_closed != kNoSlot ? free_closed : reusable;
  if (chosen == kNoSlot) {
    throw Error(ErrorCode::table_full,
                describe(file) + ": all " + std::to_string(format::kProducerSlotCount) +
                    " producer slots are taken by live processes; stop a producer first");
  }
  auto& slot = header.producers[chosen];
  close_claim_left_open(file, chosen);
  // The counts are the new owner's (its Producer starts from zero): the last owner's would be
  // shown under the new pid until its first commit. Reset before the pid is published
  // (release), so that a reader that sees the new pid (acquire) sees the new counts. A dead last
  // owner may have been waiting; its wait and its total are not the new owner's either.
  atomic_field(slot.committed_records).store(0, std::memory_order_relaxed);
  atomic_field(slot.committed_bytes).store(0, std::memory_order_relaxed);
  atomic_field(slot.wait_state).store(0, std::memory_order_relaxed);
  atomic_field(slot.waited_ns).store(0, std::memory_order_relaxed);
  const ProcessIdentity& self = current_process();
  atomic_field(slot.owner_pid).store(self.pid, std::memory_order_release);
  // Relaxed: published by the state store below.
  atomic_field(slot.owner_start_time).store(self.start_time, std::memory_order_relaxed);
  atomic_field(slot.attach_time_ns).store(realtime_ns(), std::memory_order_relaxed);
  // Release: pairs with acquire loads of state by consumers and status, publishing the owner.
  atomic_field(slot.state).store(static_cast<std::uint32_t>(ProducerState::active), std::memory_order_release);
  return chosen;
}

bool close_abandoned_claim(RingFile& file, std::uint32_t slot_index) {
  TableLock lock(file, std::try_to_lock);
  if (!lock.owns_lock()) return false;
  // Under the lock no producer takes the slot meanwhile; re-checked, as it may have been taken
  // (and the claim closed) since the caller looked.
  if (producer_gone(file.header().producers[slot_index])) close_claim_left_open(file, slot_index);
  return true;
}

void release_producer_slot(RingFile& file, std::uint32_t slot_index) noexcept {
  try {
    TableLock lock(file);
    auto& slot = file.header().producers[slot_index];
    // Relaxed: ordered before the state store below, which publishes it.
    atomic_field(slot.wait_state).store(0, std::memory_order_relaxed);
    atomic_field(slot.state).store(static_cast<std::uint32_t>(ProducerState::free), std::memory_order_release);
  } catch (const Error&) {
    // The lock failed (the file system went away): the slot stays taken until a new producer
    // finds its owner dead and reuses it.
  }
}

// ---- consumer slots -------------------------------------------------------------------------

bool past_expiry(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept {
  const ConsumerState state = state_of(slot);
  if (state == ConsumerState::free || !named(slot)) return false;
  // Relaxed: written under the table lock at attach, before the state store that published it.
  const std::uint64_t expire_after_ms = load_field(slot.expire_after_ms, std::memory_order_relaxed);
  if (expire_after_ms == 0) return false;
  if (state == ConsumerState::active && (is_alive(owner_of(slot)) || dead_and_holding(file, slot, now_ns))) {
    return false;
  }
  // Relaxed: advisory, as every heartbeat (consumer.cpp).
  const std::uint64_t last_seen = load_field(slot.heartbeat_ns, std::memory_order_relaxed);
  return now_ns >= last_seen && now_ns - last_seen >= expire_after_ms * 1'000'000;
}

ConsumerSlotChoice choose_consumer_slot(RingFile& file, const std::string& name) {
  auto& header = file.header();
  const std::uint64_t now = realtime_ns();
  std::uint32_t free_slot = kNoSlot;
  std::uint32_t reusable = kNoSlot;
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    auto& slot = header.consumers[index];
    const ConsumerState state = state_of(slot);
    if (state == ConsumerState::free) {
      if (free_slot == kNoSlot) free_slot = index;
      continue;
    }
    if (!named(slot)) {
      if (reusable == kNoSlot && !is_alive(owner_of(slot))) reusable = index;
      continue;
    }
    if (!has_name(slot, name)) {
      if (reusable == kNoSlot && past_expiry(file, slot, now)) reusable = index;
      continue;
    }
    if (attached_alive(slot)) {
      const std::uint64_t holder = owner_of(slot).pid;
      if (holder == current_process().pid) {
        throw Error(ErrorCode::busy, describe(file) + ": consumer '" + name +
                                         "' is attached already by this process (another Consumer object); "
                                         "detach that one first, or attach under another name");
      }
      throw Error(ErrorCode::busy, describe(file) + ": consumer '" + name + "' is attached by live process " +
                                       std::to_string(holder) + "; stop it or attach under another name");
    }
    // Its own slot: resumed, or past expiry, where the name starts afresh as if deleted.
    const bool expired = past_expiry(file, slot, now);
    return {index, !expired, expired};
  }
  const std::uint32_t chosen = free_slot != kNoSlot ? free_slot : reusable;
  if (chosen == kNoSlot) {
    throw Error(ErrorCode::table_full,
                describe(file) + ": all " + std::to_string(format::kConsumerSlotCount) +
                    " consumer slots are taken; remove named consumers that are gone (delete_consumer, "
                    "ringfile-consumer --delete NAME), or let them expire (ConsumerOptions::expire_after, "
                    "--expire-after)");
  }
  // A slot reused from a dead anonymous consumer or an expired named one is taken over as if free.
  atomic_field(header.consumers[chosen].state)
      .store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
  return {chosen, false};
}

void take_consumer_slot(RingFile& file, const ConsumerSlotChoice& choice, const ConsumerOptions& options,
                        std::uint64_t start) noexcept {
  auto& slot = file.header().consumers[choice.index];
  const ProcessIdentity& self = current_process();
  const bool is_named = !options.name.empty();
  std::uint32_t flags = is_named ? std::uint32_t{format::kConsumerNamed} : 0u;
  if (options.holds_back) flags |= format::kConsumerHoldsBack;
  // Relaxed stores: none is read before the state store below publishes them all (release).
  if (!choice.resumed) {
    std::memset(slot.name, 0, sizeof slot.name);
    std::memcpy(slot.name, options.name.data(), std::min(options.name.size(), sizeof slot.name - 1));
    atomic_field(slot.consumed_records).store(0, std::memory_order_relaxed);
    atomic_field(slot.lost_bytes).store(0, std::memory_order_relaxed);
    atomic_field(slot.lost_records).store(0, std::memory_order_relaxed);
  }
  atomic_field(slot.owner_pid).store(self.pid, std::memory_order_relaxed);
  atomic_field(slot.owner_start_time).store(self.start_time, std::memory_order_relaxed);
  atomic_field(slot.attach_time_ns).store(realtime_ns(), std::memory_order_relaxed);
  atomic_field(slot.heartbeat_ns).store(realtime_ns(), std::memory_order_relaxed);
  atomic_field(slot.flags).store(flags, std::memory_order_relaxed);
  const auto expire_after_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(options.expire_after.count(), 0));
  atomic_field(slot.expire_after_ms).store(is_named ? expire_after_ms : 0, std::memory_order_relaxed);
  // seq_cst: pairs with producers' seq_cst cursor loads in refresh_producer_limit.
  atomic_field(slot.cursor).store(start, std::memory_order_seq_cst);
  // Release: publishes all of the above to acquire loads of state (state_of: producers, status).
  atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::active), std::memory_order_release);
}

void release_consumer_slot(RingFile& file, std::uint32_t slot_index) noexcept {
  try {
    TableLock lock(file);
    auto& slot = file.header().consumers[slot_index];
    // Release, as every store of state here: pairs with the acquire load in state_of.
    if (!named(slot)) {
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
    } else {
      // Relaxed: published by the state store below.
      atomic_field(slot.owner_pid).store(0, std::memory_order_relaxed);
      atomic_field(slot.owner_start_time).store(0, std::memory_order_relaxed);
      // Last seen now: its expiry counts from here, and a holding one holds producers back for
      // the grace period from here (detached_and_holding), as a dead one does from its last
      // heartbeat, so that a consumer stopped and started again at once loses nothing.
      atomic_field(slot.heartbeat_ns).store(realtime_ns(), std::memory_order_relaxed);
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::detached), std::memory_order_release);
    }
  } catch (const Error&) {
    // Without the lock the slot stays active; producers find its owner gone and release it.
  }
}

bool release_dead_consumer(RingFile& file, std::uint32_t slot_index, const ProcessIdentity& owner,
                           std::uint64_t seen_alive_ns) {
  TableLock lock(file);
  auto& slot = file.header().consumers[slot_index];
  // Relaxed owner loads: transitions happen under the table lock, which we hold.
  if (state_of(slot) != ConsumerState::active || atomic_field(slot.owner_pid).load(std::memory_order_relaxed) != owner.pid ||
      atomic_field(slot.owner_start_time).load(std::memory_order_relaxed) != owner.start_time) {
    // Taken over meanwhile by a consumer that is attaching now: it holds back from the cursor
    // the caller read, which is already the new owner's (it published before lowering the limit).
    return false;
  }
  // Relaxed: only the named bit is read, which changes only under the table lock we hold.
  const std::uint32_t flags = atomic_field(slot.flags).load(std::memory_order_relaxed);
  if ((flags & format::kConsumerNamed) == 0) {
    // Release: pairs with the acquire load in state_of.
    atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
    return true;
  }
  // Relaxed: advisory, as every heartbeat (consumer.cpp); under the table lock, no other taker
  // stores one meanwhile, and its dead owner none.
  std::uint64_t heartbeat = atomic_field(slot.heartbeat_ns).load(std::memory_order_relaxed);
  if (seen_alive_ns > heartbeat) {
    // Seen alive since (hung, not polling): it died after that, and that is when it was last
    // seen, for the other producers and ringfile-status too (found by a tester).
    heartbeat = seen_alive_ns;
    atomic_field(slot.heartbeat_ns).store(heartbeat, std::memory_order_relaxed);
  }
  if (within_grace(file, heartbeat, realtime_ns())) return false;
  // Release: a returning consumer's acquire load of flags sees that it was expired.
  atomic_field(slot.flags).fetch_or(format::kConsumerExpired, std::memory_order_release);
  return true;
}

// ---- an operator's clearing of damaged slots, delete and reset ---------------------------------

std::vector<DamagedSlot> free_damaged_slots(RingFile& file, bool dry_run) {
  if (!dry_run) require_writable(file);
  // Under the lock, also for a dry run: no slot is taken or given up between the look and the
  // answer, and a dry run says what the clear would do.
  TableLock lock(file);
  std::vector<DamagedSlot> damaged = file.damaged_slots();
  auto& header = file.header();
  for (DamagedSlot& found : damaged) {
    // A live owner still writes the slot (it opened the ring before the damage): freeing it
    // under that process would hand its slot to another, two owners of one claim or cursor.
    const ProcessIdentity owner =
        found.producer ? owner_of(header.producers[found.index]) : owner_of(header.consumers[found.index]);
    if (is_alive(owner)) found.live_owner_pid = owner.pid;
  }
  if (dry_run) return damaged;
  for (const DamagedSlot& found : damaged) {
    if (found.live_owner_pid != 0) continue;
    if (found.producer) {
      auto& slot = header.producers[found.index];
      // Its owner is dead: its claim, if any, is closed as any dead producer's is, padded over where
      // it is one a producer can have made (pad_abandoned_range checks its bounds against the head
      // and the geometry, as they are as untrustworthy as the state), so that consumers do not
      // stop at an uncommitted frame nobody claims; then an empty claim at 0 replaces whatever
      // bounds are left. Its sequence numbers go on from next_sequence. The state last: a free
      // slot with a claim open would be padded over by the next producer taking it, so a clear cut
      // short before the state store leaves the slot damaged, to clear again.
      close_claim_left_open(file, found.index);
      publish_claim(slot, {0, 0, 0});
      // Relaxed: published by the state store below.
      atomic_field(slot.wait_state).store(0, std::memory_order_relaxed);
      // Release: pairs with the acquire load of state by producers taking a slot and by status.
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ProducerState::free), std::memory_order_release);
    } else {
      auto& slot = header.consumers[found.index];
      // Free first, in one store: a clear cut short after it leaves a free slot, which nobody
      // reads and a consumer taking it writes afresh. Release: producers computing their limit
      // (acquire) stop counting the slot.
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
      // Relaxed: nobody takes the slot before the table lock is released.
      atomic_field(slot.flags).store(0, std::memory_order_relaxed);
      std::memset(slot.name, 0, sizeof slot.name);
      atomic_field(slot.cursor).store(0, std::memory_order_relaxed);
    }
  }
  wake_sleepers(header.space_wait);  // producers may have been waiting for a damaged slot
  return damaged;
}

void delete_named_consumer(RingFile& file, const std::string& name) {
  require_writable(file);
  {
    TableLock lock(file);
    const std::uint32_t index = operable_named(file, name, "delete");
    // Release: producers computing their limit (acquire) stop counting the slot.
    atomic_field(file.header().consumers[index].state)
        .store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
  }
  wake_sleepers(file.header().space_wait);  // producers may have been waiting for it
}

CursorReset reset_named_consumer(RingFile& file, const std::string& name, const Seek& target, bool dry_run) {
  require_writable(file);
  DataView view(file, DataView::Access::read_only);
  RecordSearch search(file, view);
  CursorReset reset;
  {
    TableLock lock(file);
    const std::uint32_t index = operable_named(file, name, "reset");
    auto& slot = file.header().consumers[index];
    // Acquire: pairs with the last seq_cst cursor store (its consumer's commit, under no lock).
    reset.from = atomic_field(slot.cursor).load(std::memory_order_acquire);
    reset.to = search.resolve(target);
    // Acquire: pairs with the producers' head CAS; a figure for the operator.
    reset.head = atomic_field(file.header().head_position.value).load(std::memory_order_acquire);
    reset.holds_back = holding_without_owner(file, slot, realtime_ns());
    if (dry_run) return reset;
    // seq_cst: pairs with producers' seq_cst cursor loads in refresh_producer_limit, as a
    // consumer's commit does.
    atomic_field(slot.cursor).store(reset.to, std::memory_order_seq_cst);
    // A holding slot moved back must hold producers at its new cursor, which their limit (from
    // the old cursor) may already allow them past: the same hand-shake as an attaching consumer.
    // A record kept whose group header is gone is found out at the consumer's attach.
    if (reset.holds_back && reset.to < reset.from && hold_producers_at(file, reset.to) == CursorHold::passed) {
      // Never back: the oldest record there is now lies past the target that was overwritten.
      reset.to = std::max(reset.to, oldest_intact_boundary(file, view, 0));
      reset.moved_past_overwritten = true;
      atomic_field(slot.cursor).store(reset.to, std::memory_order_seq_cst);
    }
    reset.applied = true;
  }
  wake_sleepers(file.header().space_wait);  // a holding cursor moved forward frees space
  return reset;
}

}  // namespace ringfile::detail
