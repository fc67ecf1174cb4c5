// Attaching and detaching consumers: slot selection, start position, and the block policy's
// hand-shake that makes producers respect a newly attached cursor.
#include <algorithm>
#include <cstring>
#include <limits>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_core.hpp"
#include "paging.hpp"
#include "process_identity.hpp"
#include "ringfile/error.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

using format::ConsumerState;

namespace {

std::string describe(const RingFile& file) { return "'" + file.info().path.string() + "'"; }

void validate_name(const RingFile& file, const std::string& name) {
  if (name.size() >= format::kConsumerNameBytes) {
    throw Error(ErrorCode::invalid_argument,
                describe(file) + ": consumer name '" + name + "' is longer than " +
                    std::to_string(format::kConsumerNameBytes - 1) + " bytes; choose a shorter one");
  }
  for (const char character : name) {
    if (static_cast<unsigned char>(character) < 0x21 || character == 0x7f) {
      throw Error(ErrorCode::invalid_argument,
                  describe(file) + ": consumer name '" + name +
                      "' holds spaces or control characters; use letters, digits, '-', '_' or '.'");
    }
  }
}

}  // namespace

ConsumerCore::ConsumerCore(const Ring& ring, const ConsumerOptions& options)
    : ring_(ring),
      file_(*ring.file()),
      header_(file_.header()),
      geometry_(file_.geometry()),
      options_(options),
      view_(file_, file_.read_only() ? DataView::Access::read_only : DataView::Access::read_write),
      replay_(file_) {
  validate_name(file_, options_.name);
  if (file_.read_only()) {
    attach_read_only();
    return;
  }
  const bool holds_back = options_.holds_back && file_.policy() == WriterPolicy::block;
  checked_ = !holds_back;

  std::uint64_t start = 0;
  {
    TableLock lock(file_);
    const std::uint32_t index = take_slot();
    auto& slot = header_.consumers[index];
    const bool resumed = atomic_field(slot.state).load(std::memory_order_acquire) !=
                         static_cast<std::uint32_t>(ConsumerState::free);
    start = choose_start(resumed, atomic_field(slot.cursor).load(std::memory_order_acquire));
    publish_slot(index, resumed, start);
    learn_producer_sequences(start);
  }
  attached_ = true;
  if (holds_back) hold_back_from_start();
}

ConsumerCore::~ConsumerCore() { detach(); }

// A reader without write access takes no slot: it cannot save a cursor or hold producers back,
// so it is a tap that may be lapped (and counts what it lost), and it never writes to the file.
void ConsumerCore::attach_read_only() {
  if (!options_.name.empty()) {
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + " was opened read-only, so consumer '" + options_.name +
                    "' cannot save its cursor there; attach without a name, or with write access");
  }
  if (options_.holds_back) {
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + " was opened read-only: a consumer without write access cannot "
                                  "hold producers back; attach with holds_back = false (--no-hold)");
  }
  checked_ = true;
  const std::uint64_t start = choose_start(false, 0);
  position_ = committed_ = start;
  learn_producer_sequences(start);
  attached_ = true;
}

std::uint32_t ConsumerCore::take_slot() {
  constexpr std::uint32_t kNone = std::numeric_limits<std::uint32_t>::max();
  std::uint32_t free_slot = kNone;
  std::uint32_t dead_anonymous = kNone;
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    auto& slot = header_.consumers[index];
    const auto state = static_cast<ConsumerState>(atomic_field(slot.state).load(std::memory_order_acquire));
    const std::uint32_t flags = atomic_field(slot.flags).load(std::memory_order_acquire);
    if (state == ConsumerState::free) {
      if (free_slot == kNone) free_slot = index;
      continue;
    }
    const bool named = (flags & format::kConsumerNamed) != 0;
    if (!named) {
      if (dead_anonymous == kNone && !is_alive(owner_of(slot))) dead_anonymous = index;
      continue;
    }
    if (options_.name.empty() || std::strncmp(slot.name, options_.name.c_str(), sizeof slot.name) != 0) {
      continue;
    }
    const ProcessIdentity owner = owner_of(slot);
    if (state == ConsumerState::active && is_alive(owner)) {
      throw Error(ErrorCode::busy, describe(file_) + ": consumer '" + options_.name +
                                       "' is attached by live process " + std::to_string(owner.pid) +
                                       "; stop it or attach under another name");
    }
    return index;  // a named consumer coming back (detached, or its last owner died)
  }
  const std::uint32_t chosen = free_slot != kNone ? free_slot : dead_anonymous;
  if (chosen == kNone) {
    throw Error(ErrorCode::table_full,
                describe(file_) + ": all " + std::to_string(format::kConsumerSlotCount) +
                    " consumer slots are taken; detach consumers or reuse a name");
  }
  // A dead anonymous consumer's slot is taken over as if it were free.
  atomic_field(header_.consumers[chosen].state)
      .store(static_cast<std::uint32_t>(ConsumerState::free), std::memory_order_release);
  return chosen;
}

std::uint64_t ConsumerCore::choose_start(bool resumed, std::uint64_t saved_cursor) {
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  const std::uint64_t frontier = reclaimed_frontier(header_);
  const std::uint64_t oldest_kept = frontier > geometry_.capacity ? frontier - geometry_.capacity : 0;
  if (options_.start_position) {
    const std::uint64_t wanted = *options_.start_position;
    if (wanted > head || wanted < oldest_kept || wanted % format::kFrameAlignment != 0) {
      throw Error(ErrorCode::invalid_argument,
                  describe(file_) + ": start position " + std::to_string(wanted) +
                      " is outside the data still in the ring [" + std::to_string(oldest_kept) +
                      ", " + std::to_string(head) + "]");
    }
    if (wanted < head && geometry_.offset_of(wanted) != 0) {
      std::byte* frame = view_.at(geometry_.offset_of(wanted), header_bytes_at(wanted, geometry_));
      const FrameRead read = frame ? read_frame(frame, wanted, geometry_) : FrameRead{};
      if (read.kind != FrameKind::data && read.kind != FrameKind::padding) {
        throw Error(ErrorCode::invalid_argument,
                    describe(file_) + ": start position " + std::to_string(wanted) +
                        " is not the start of a record; use a position reported by a consumer");
      }
    }
    return wanted;
  }
  switch (options_.start) {
    case StartFrom::committed:
      if (!resumed || options_.name.empty()) return head;
      if (saved_cursor > head) {
        throw Error(ErrorCode::corrupt,
                    describe(file_) + ": consumer '" + options_.name + "' was saved at position " +
                        std::to_string(saved_cursor) + ", beyond the ring's head " + std::to_string(head) +
                        ": the records it had read up to there did not survive (a crash of the machine "
                        "loses what was not synced); attach with --from latest or --from earliest");
      }
      return saved_cursor;
    case StartFrom::latest:
      return head;
    case StartFrom::earliest:
      // A margin: producers and the paging engine may move on while we attach and scan.
      return oldest_kept == 0 ? 0 : oldest_boundary(std::min(geometry_.capacity / 8, file_.view_step()));
  }
  return head;
}

void ConsumerCore::publish_slot(std::uint32_t slot_index, bool resumed, std::uint64_t start) {
  slot_index_ = slot_index;
  slot_ = &header_.consumers[slot_index];
  auto& slot = *slot_;
  const ProcessIdentity& self = current_process();
  const bool named = !options_.name.empty();
  std::uint32_t flags = named ? std::uint32_t{format::kConsumerNamed} : 0u;
  if (options_.holds_back) flags |= format::kConsumerHoldsBack;
  if (!resumed) {
    std::memset(slot.name, 0, sizeof slot.name);
    std::memcpy(slot.name, options_.name.data(), options_.name.size());
    atomic_field(slot.consumed_records).store(0, std::memory_order_relaxed);
    atomic_field(slot.lost_bytes).store(0, std::memory_order_relaxed);
    atomic_field(slot.lost_records).store(0, std::memory_order_relaxed);
  }
  atomic_field(slot.owner_pid).store(self.pid, std::memory_order_relaxed);
  atomic_field(slot.owner_start_time).store(self.start_time, std::memory_order_relaxed);
  atomic_field(slot.attach_time_ns).store(realtime_ns(), std::memory_order_relaxed);
  atomic_field(slot.heartbeat_ns).store(realtime_ns(), std::memory_order_relaxed);
  atomic_field(slot.flags).store(flags, std::memory_order_relaxed);
  // seq_cst: pairs with producers' seq_cst cursor loads in refresh_producer_limit.
  atomic_field(slot.cursor).store(start, std::memory_order_seq_cst);
  // Release: publishes all of the above to acquire loads of state (producers, status).
  atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::active),
                                 std::memory_order_release);
  position_ = committed_ = start;
  last_heartbeat_ns_ = coarse_realtime_ns();
  stats_.lost_bytes = atomic_field(slot.lost_bytes).load(std::memory_order_relaxed);
  stats_.lost_records = atomic_field(slot.lost_records).load(std::memory_order_relaxed);
}

// A consumer starting at the head knows which sequence each producer's next record carries, so
// records it loses before it has seen any of a producer's are counted too. Elsewhere the
// baseline is unknown until the first record of each producer.
void ConsumerCore::learn_producer_sequences(std::uint64_t start) {
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (start != head) return;
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    auto& producer = header_.producers[index];
    std::uint64_t next = atomic_field(producer.next_sequence).load(std::memory_order_relaxed);
    // A claim open below our start commits the sequence we read, in a record we will not see.
    if (read_claim(producer).open()) ++next;
    expected_sequence_[index] = next;
    sequence_known_[index] = true;
  }
}

// Block policy: producers may already be allowed past our start (their limit was computed
// without us). Lower the shared limit to start + capacity, then look at the head. Producers
// re-read the limit after every reservation (seq_cst both sides), so either they see our lower
// limit and wait before writing, or we see their reservation here and start after it.
void ConsumerCore::hold_back_from_start() {
  const std::uint64_t wanted_limit = position_ + geometry_.capacity;
  lower_producer_limit(file_, wanted_limit);
  // seq_cst loads: the other half of the Dekker pairing with reserving producers (head CAS, then
  // limit load) and with the paging engine (preparing_end store, then limit load).
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_seq_cst);
  const std::uint64_t preparing =
      atomic_field(header_.preparation.preparing_end).load(std::memory_order_seq_cst);
  const std::uint64_t frontier = std::max(head, preparing);
  if (frontier <= wanted_limit) {
    follow_if_within_hold_window();
    return;
  }
  // Producers or the paging engine moved past our start while we attached (or our saved cursor
  // is older than the ring): the old lap beyond the frontier is still intact and now protected.
  const std::uint64_t restart = oldest_boundary(0);
  stats_.lost_bytes += restart - position_;
  atomic_field(slot_->lost_bytes).store(stats_.lost_bytes, std::memory_order_relaxed);
  position_ = restart;
  commit();
}

void ConsumerCore::detach() noexcept {
  if (!attached_) return;
  // Without auto-commit the saved cursor is what the user committed: records read since were
  // not confirmed as handled, and a named consumer reads them again when it returns.
  if (options_.auto_commit) commit();
  attached_ = false;
  view_.unmap();
  if (slot_ == nullptr) return;  // a read-only tap holds no slot
  try {
    TableLock lock(file_);
    auto& slot = *slot_;
    if (options_.name.empty()) {
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::free),
                                     std::memory_order_release);
    } else {
      atomic_field(slot.owner_pid).store(0, std::memory_order_relaxed);
      atomic_field(slot.owner_start_time).store(0, std::memory_order_relaxed);
      atomic_field(slot.state).store(static_cast<std::uint32_t>(ConsumerState::detached),
                                     std::memory_order_release);
    }
  } catch (const Error&) {
    // Without the lock the slot stays active; producers find its owner gone and release it.
    return;
  }
  wake_sleepers(header_.space_wait);  // producers may have been waiting for us
}

}  // namespace ringfile::detail
