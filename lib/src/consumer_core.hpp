// The state of one attached consumer (see ringfile/consumer.hpp for the contract): attaching in
// consumer_attach.cpp, reading in consumer.cpp, group frames in consumer_groups.cpp, recovery
// from lapping, stuck claims and damage in consumer_recovery.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "atomics.hpp"
#include "data_view.hpp"
#include "frames.hpp"
#include "replay_paging.hpp"
#include "ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "spin_pacing.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

// An uncommitted frame below the head is usually a producer mid-copy; only after kStuckGraceNs
// does a consumer look for its owner in the producer table (resolve_uncommitted), and then again
// every kStuckRecheckNs, which is also the longest a waiting consumer sleeps at such a frame.
inline constexpr std::uint64_t kStuckGraceNs = 1'000'000;
inline constexpr std::uint64_t kStuckRecheckNs = 10'000'000;

class ConsumerCore {
 public:
  // Attaches: takes or resumes a slot and chooses the start position (consumer_attach.cpp).
  ConsumerCore(const Ring& ring, const ConsumerOptions& options);
  ~ConsumerCore();

  PollResult poll(Consumer::HandlerFn handler, void* context, std::size_t max_records);
  bool wait(std::chrono::nanoseconds timeout);
  void commit() noexcept;
  bool commit_at(std::uint64_t position) noexcept;
  void detach() noexcept;

  std::uint64_t position() const noexcept { return position_; }
  Lag lag() const;
  const ConsumerStats& stats() const noexcept { return stats_; }
  const ConsumerStats& carried_stats() const noexcept { return carried_stats_; }
  bool name_expired() const noexcept { return name_expired_; }
  std::uint32_t slot() const noexcept { return slot_ != nullptr ? slot_index_ : kNoConsumerSlot; }
  const Ring& ring() const noexcept { return ring_; }

 private:
  // consumer_attach.cpp
  void attach_read_only();
  // Where the consumer starts, checked to be a position a frame may start at (find_start).
  std::uint64_t choose_start(bool resumed, std::uint64_t saved_cursor);
  std::uint64_t find_start(bool resumed, std::uint64_t saved_cursor);
  std::uint64_t validated_saved_cursor(std::uint64_t saved_cursor) const;
  void use_slot(std::uint32_t slot_index, std::uint64_t start) noexcept;
  void learn_producer_sequences(std::uint64_t start);
  void hold_back_from_start();
  void follow_if_within_hold_window() noexcept;

  // consumer.cpp
  bool lapped(std::uint64_t position) const noexcept;
  // For a consumer producers may lap: a seqlock-style read of `bytes` at `payload`, part of the
  // frame at `frame_position`. Copies them into scratch_, then confirms no producer reserved
  // over the frame meanwhile; returns the copy, or null when one did (the frame is lapped).
  const std::byte* copy_unless_lapped(const std::byte* payload, std::size_t bytes, std::uint64_t frame_position);
  // @pre position >= known_head_. True when a frame at `position` may be read: known_head_ then
  // lies past it. When it read the frame and found a committed record there, `*data_read` is that
  // read (kind data), so the caller need not read the frame again; else its kind is left alone.
  bool reach_past_known_head(std::uint64_t position, FrameRead* data_read) noexcept;
  // A committed record of this session, which may be read past the head we know (see
  // reach_past_known_head). A data frame fits the data area whole (read_frame): its header is mapped.
  bool is_fresh_record(std::byte* frame, const FrameRead& read) const noexcept {
    const std::uint16_t generation = file_.frame_generation();
    return read.kind == FrameKind::data && generation != 0 && header_of(frame).generation == generation;
  }
  // Moves to `position`, a frame's start or a record inside a group frame (an entry's position,
  // as a saved cursor or a seek may name): then the group's header is read here, and the records
  // of the group are read from there on. @pre `position` is a record boundary (the search that
  // found it, or a cursor saved at one).
  void move_to(std::uint64_t position) noexcept;
  // Starts reading the group frame at `position` (read by read_frame as `read`, mapped at
  // `frame`) from its record at entry offset `offset`, the group's `index`-th.
  void enter_group(std::uint64_t position, const FrameRead& read, const std::byte* frame, std::uint64_t offset,
                   std::uint64_t index) noexcept;
  void leave_group(std::uint64_t next_position) noexcept {
    group_start_ = kNoGroup;
    position_ = next_position;
  }
  // poll's step inside a group: hands the group's records from position_ on to the handler, up to
  // max_records of them, and says how many, whether it found damage, and whether the poll goes on
  // (not when the handler said so, at damage, or without a view).
  struct GroupRead {
    std::size_t records = 0;
    PollStatus status = PollStatus::ok;
    bool go_on = true;
  };
  GroupRead poll_group(Consumer::HandlerFn handler, void* context, std::size_t max_records);
  // True when a poll would hand out a record, skip, pad over a dead claim or report damage.
  bool poll_has_work() noexcept;
  // A watch on the commit word of the frame at position_ (empty when no view can be had now).
  // @pre position_ stays where it is while the watch is used (the view keeps its frame mapped).
  CommitWordWatch watch_next_frame() noexcept;
  // wait's first spin: up to kQuickLooks looks at the watched word, kLookIntervalNs apart, fewer
  // when `spin_ns` is shorter; reads no clock. True when a poll has work.
  bool quick_spin(CommitWordWatch& watch, std::uint64_t spin_ns) noexcept;
  // A spinning wait's pause before its next look at the frame (spin_pacing.hpp).
  void pause_before_look() const noexcept {
    for (std::uint32_t pause = 0; pause < pauses_per_look_; ++pause) cpu_relax();
  }

  // read_frame, where a frame a producer has claimed never reads as corrupt: until its commit,
  // what is there is an earlier lap's bytes, and 8 of them may pass for a commit word of this
  // lap (its 24-bit lap tag matched by chance) with a type or length that is not one. Such a
  // frame reads as uncommitted, and is resolved as one (resolve_uncommitted).
  FrameRead read_frame_unless_claimed(std::byte* frame, std::uint64_t position) const noexcept;
  // Whether `position`, which this consumer has read past, is where a record, a group or padding
  // starts (commit_at). @pre committed_ < position < position_.
  bool is_boundary_read_past(std::uint64_t position) noexcept;
  void count_sequence(std::uint16_t producer_slot, std::uint64_t sequence) noexcept;
  // Commits `position` as the cursor. @pre attached, committed_ < position <= position_.
  // Inline: poll commits at its end, and a consumer that keeps up polls a record at a time.
  void store_cursor(std::uint64_t position) noexcept;
  [[gnu::noinline]] void beat_heart() noexcept;

  // consumer_recovery.cpp. The calls poll makes into it (and to beat_heart) stay calls: the
  // link-time optimised build inlined them, and the larger poll left read_frame out of line (a
  // 64-byte record read in 16.5 ns in one thread, against 14 before link-time optimisation and
  // 13.3 with these out of line and read_frame always inline: bench/README.md, "The library
  // optimised at link time"). Cold: rare, and slow anyway when they happen.
  std::uint64_t oldest_boundary(std::uint64_t margin) noexcept;
  // Past the bytes producers overwrote under us, counting them as lost. False: the header cannot
  // be right (its paging frontier is more than a lap ahead of the head).
  [[gnu::noinline, gnu::cold]] bool skip_lapped() noexcept;
  // The frame at `position`, below the head, is uncommitted: true when it was padded over (or
  // stepped over), so that poll reads there again.
  [[gnu::noinline, gnu::cold]] bool resolve_uncommitted(std::byte* frame, std::uint64_t position,
                                                       std::uint64_t commit_word) noexcept;
  [[gnu::noinline, gnu::cold]] void skip_damage() noexcept;  // past the damage poll reported at position_
  // After a loss, once caught up with the head: the records each producer whose numbers we know
  // wrote after its newest one read (they show in no later jump of its numbers when it wrote
  // nothing after them) count as lost too.
  [[gnu::noinline, gnu::cold]] void settle_tail_losses() noexcept;
  // Remembers the damage at `position` (the next poll skips past it) and what it is, for the
  // poll's result.
  static constexpr const char* kChecksumMismatch = "payload checksum mismatch";
  [[gnu::noinline, gnu::cold]] PollStatus report_damage(std::uint64_t position, const char* problem);

  Ring ring_;
  RingFile& file_;
  format::FileHeader& header_;
  const Geometry& geometry_;
  ConsumerOptions options_;
  DataView view_;
  std::optional<DataView> boundary_view_;  // is_boundary_read_past's, made at its first call
  ReplayPaging replay_;
  // Producers may overwrite what we have not read (overwrite policy, or a consumer that does not
  // hold them back): copy and re-check each record instead of handing out the mapping.
  bool may_be_lapped_ = false;
  // Block policy, holding: within the hold window of the head, producers wait for us there
  // (format::kConsumerFollowing). Once set, it stays for as long as we are attached.
  bool following_ = false;
  bool attached_ = false;
  bool polling_ = false;  // inside poll(): a handler that polls again is refused
  // Started at the oldest record (Seek::earliest): records overwritten while it attached were
  // never its own to lose (hold_back_from_start).
  bool started_at_oldest_ = false;
  std::uint32_t slot_index_ = 0;
  format::ConsumerSlot* slot_ = nullptr;  // null for a read-only tap: then nothing is written

  std::uint64_t position_ = 0;   // the next record (or frame) to read
  std::uint64_t committed_ = 0;  // cursor last stored in the slot
  // Inside a group frame (format::FrameType::group), position_ is the next record's entry in the
  // group at group_start_, and the group's header fields are kept here; else kNoGroup.
  static constexpr std::uint64_t kNoGroup = ~std::uint64_t{0};
  std::uint64_t group_start_ = kNoGroup;
  std::uint64_t group_length_ = 0;  // the frame's length
  std::uint64_t group_stride_ = 0;
  std::uint64_t group_timestamp_ns_ = 0;
  std::uint64_t group_first_sequence_ = 0;
  std::uint64_t group_index_ = 0;  // position_'s record is the group's group_index_-th
  std::uint16_t group_producer_slot_ = 0;
  bool group_checksummed_ = false;
  std::uint64_t known_head_ = 0;  // frames below it may be read: the head as last loaded, or more
  std::uint64_t head_loaded_ns_ = 0;  // reach_past_known_head: when it last loaded the head (coarse)
  std::uint64_t last_heartbeat_ns_ = 0;
  std::uint32_t polls_to_heartbeat_check_ = 0;  // poll: the heartbeat is checked when it is 0
  std::uint64_t spin_ns_ = kSpinBeforeSleepNs;  // wait: how long the next wait spins before it sleeps
  const std::uint32_t pauses_per_look_ = pauses_per_look();  // pause_before_look
  std::uint64_t stuck_position_ = ~std::uint64_t{0};
  std::uint64_t stuck_since_ns_ = 0;
  std::uint64_t next_stuck_check_ns_ = 0;
  // Where poll last reported damage (kNoDamage: nowhere); the next poll skips past it.
  static constexpr std::uint64_t kNoDamage = ~std::uint64_t{0};
  std::uint64_t damaged_at_ = kNoDamage;
  // Damage inside a group: where the next poll reads on (the next record, if the damaged one's
  // entry is sound, else the group's end); kNoDamage elsewhere (a search for the next boundary).
  std::uint64_t resume_after_damage_ = kNoDamage;
  bool unclaimed_hole_ = false;  // resolve_uncommitted: stuck past the timeout and claimed by nobody
  bool losses_to_settle_ = false;  // bytes lost since the last settle_tail_losses
  // The position at which reach_past_known_head last loaded a head below it; kNoDamage when the
  // last load found the head at or past its position.
  std::uint64_t head_below_at_ = kNoDamage;
  std::uint64_t head_back_reported_at_ = kNoDamage;  // where poll last reported it

  std::vector<std::byte> scratch_;
  // Per producer slot: the sequence its next record should carry, where known.
  std::array<std::uint64_t, format::kProducerSlotCount> expected_sequence_{};
  std::array<bool, format::kProducerSlotCount> sequence_known_{};
  ConsumerStats stats_;
  ConsumerStats carried_stats_;  // the slot's counts when use_slot() took it
  bool name_expired_ = false;    // attach found the name's own slot past expiry (Consumer::name_expired)
  std::string damage_message_;  // report_damage: for the poll's result
};

// Inline, here: poll and poll_group count every record they hand out.
inline void ConsumerCore::count_sequence(std::uint16_t producer_slot, std::uint64_t sequence) noexcept {
  if (producer_slot >= format::kProducerSlotCount) return;
  // Producer sequences continue across owners of a slot, so a jump is records we never saw.
  if (sequence_known_[producer_slot] && sequence > expected_sequence_[producer_slot]) {
    stats_.lost_records += sequence - expected_sequence_[producer_slot];
    // Relaxed: a count for status, written only by this consumer; nothing is published with it.
    if (slot_ != nullptr) atomic_field(slot_->lost_records).store(stats_.lost_records, std::memory_order_relaxed);
  }
  sequence_known_[producer_slot] = true;
  expected_sequence_[producer_slot] = sequence + 1;
}

inline void ConsumerCore::store_cursor(std::uint64_t position) noexcept {
  committed_ = position;
  if (slot_ == nullptr) return;  // a read-only tap has no cursor in the file
  // Relaxed: a count for status, published by nothing; the cursor store below is what counts.
  atomic_field(slot_->consumed_records).store(stats_.records, std::memory_order_relaxed);
  // seq_cst: pairs with producers' seq_cst cursor loads (refresh_producer_limit), and orders
  // before the sleeper-count load in wake_sleepers (Dekker, see wakeups.hpp).
  atomic_field(slot_->cursor).store(position, std::memory_order_seq_cst);
  if (!may_be_lapped_ && !following_) follow_if_within_hold_window();
  wake_sleepers(header_.space_wait);
}

}  // namespace ringfile::detail
