// Reading records: poll, wait, commit; the records of group frames are read in
// consumer_groups.cpp, and lapping, stuck claims and damage are recovered from in
// consumer_recovery.cpp.
#include "ringfile/consumer.hpp"

#include <algorithm>
#include <cstring>

#include <sched.h>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_core.hpp"
#include "crc32c_in_ring.hpp"
#include "futex.hpp"
#include "paging.hpp"
#include "ringfile/error.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile {
namespace detail {

namespace {
constexpr std::uint64_t kHeartbeatIntervalNs = 100'000'000;
// poll() looks at the heartbeat's clock once in this many calls (see poll).
constexpr std::uint32_t kPollsPerHeartbeatCheck = 8;
// How often a read-only tap, which producers cannot wake, looks for new records while waiting.
constexpr std::uint64_t kReadOnlyPollNs = 2'000'000;
// A spinning wait reads the clock once per this many pauses' worth of turns (each turn a paced
// pause and a look; see wait), and a spin_then_sleep one yields its CPU as often.
constexpr std::uint32_t kSpinsPerClockRead = 16;
// A wait that may spin first looks this many times (kLookIntervalNs apart, about 3 us in all) at
// the commit word of the frame it waits for, reading no clock (see quick_spin); fewer when its
// timeout, or a spin_then_sleep consumer's spin, is shorter.
constexpr std::uint32_t kQuickLooks = 32;
}  // namespace

bool ConsumerCore::lapped(std::uint64_t position) const noexcept {
  // Producers write only after reserving, and the paging engine invalidates only after
  // publishing its frontier: while neither is a lap ahead of `position`, nothing there changed.
  return reclaimed_frontier(file_) > position + geometry_.capacity;
}

const std::byte* ConsumerCore::copy_unless_lapped(const std::byte* payload, std::size_t bytes,
                                                 std::uint64_t frame_position) {
  // Never empty: an empty vector's data() may be null, which would read as "lapped" to the caller
  // (and poll would try the same empty record again and again), and memcpy takes no null.
  scratch_.resize(std::max<std::size_t>(bytes, 1));
  std::memcpy(scratch_.data(), payload, bytes);
  // The copy's loads complete before the frontier is read in lapped() (seqlock-style).
  acquire_fence();
  return lapped(frame_position) ? nullptr : scratch_.data();
}

void ConsumerCore::beat_heart() noexcept {
  if (slot_ == nullptr) return;
  const std::uint64_t now = coarse_realtime_ns();
  if (now < last_heartbeat_ns_ + kHeartbeatIntervalNs) return;
  last_heartbeat_ns_ = now;
  // Relaxed: the heartbeat is advisory (status, grace period); nothing is published with it.
  atomic_field(slot_->heartbeat_ns).store(now, std::memory_order_relaxed);
}

// The head is the line every producer writes at every record: a consumer that loads it for each
// record shares it with them, and each producer's next compare-and-swap on it waits for the line
// to come back. So a committed data frame of this session is read without it: past the head
// there is nothing committed in this session (producers move the head before they write a frame,
// and its commit is ordered after that move), and what an earlier session left there, which
// producers will overwrite, carries an older generation (format::SessionLine). Anything else there
// (padding, an older generation) is read only once a fresh load of the head covers it. While the
// frame is still uncommitted, the head is loaded only once a millisecond: it is needed then only
// to find a claim whose producer died or stalls (resolve_uncommitted), a matter of milliseconds.
bool ConsumerCore::reach_past_known_head(std::uint64_t position, FrameRead* data_read) noexcept {
  constexpr std::uint64_t kHeadLoadIntervalNs = 1'000'000;
  const std::uint16_t generation = file_.frame_generation();
  std::uint64_t now = 0;
  if (generation != 0) {
    std::byte* frame = view_.at(geometry_.offset_of(position), header_bytes_at(position, geometry_));
    if (frame != nullptr) {
      const FrameRead read = read_frame(frame, position, geometry_);
      if (is_fresh_record(frame, read)) {
        known_head_ = position + read.stride;
        *data_read = read;
        return true;
      }
      if (read.kind == FrameKind::uncommitted) {
        // The coarse clock: a precise reading would cost more than the look it spares.
        now = coarse_monotonic_ns();
        if (now < head_loaded_ns_ + kHeadLoadIntervalNs) return false;
      }
    }
  }
  head_loaded_ns_ = now != 0 ? now : coarse_monotonic_ns();
  // Acquire: pairs with the producers' head CAS, made after they published their claims.
  known_head_ = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  // Every position a consumer gets to (a record read, a restart past a loss, a seek) was below a
  // head loaded since, or below the head a fresh record's producer had moved: a head loaded now
  // below it went back. Kept for the position, as wait() loads the head too (then poll's next
  // look is put off).
  head_below_at_ = known_head_ < position ? position : kNoDamage;
  return position < known_head_;
}

FrameRead ConsumerCore::read_frame_unless_claimed(std::byte* frame, std::uint64_t position) const noexcept {
  FrameRead read = read_frame(frame, position, geometry_);
  if (read.kind != FrameKind::corrupt) return read;
  if (claim_covers(header_, position)) {
    read.kind = FrameKind::uncommitted;
    return read;
  }
  // Committed, and its claim closed, since the first look: that read was the earlier lap's.
  return read_frame(frame, position, geometry_);
}

PollResult ConsumerCore::poll(Consumer::HandlerFn handler, void* context, std::size_t max_records) {
  PollResult result;  // the only object returned, made in the caller's place (no string moved)
  if (!attached_) return result;
  if (polling_) {
    // The outer poll's position and counts live in its locals and come back after the handler:
    // an inner poll handed out the outer one's record again, and its own next records were
    // skipped by the outer one (found by a tester).
    throw Error(ErrorCode::invalid_argument,
                "poll() called from inside its own handler; return from the handler (or return false to stop the "
                "poll) and poll again");
  }
  polling_ = true;
  struct EndOfPoll {
    bool& polling;
    ~EndOfPoll() { polling = false; }  // also when a handler throws
  } end_of_poll{polling_};
  // The heartbeat's clock is read at every kPollsPerHeartbeatCheck-th poll only: read at every
  // poll it cost a ping-pong 10-20 ns a round trip of 150-200 (each record takes two polls: one
  // that finds nothing before the wait, one after it; measured in one run with and without, in
  // turn). The heartbeat is advisory (status, the grace after a death) and 100 ms apart anyway;
  // a consumer that polls less often than every 100 ms / kPollsPerHeartbeatCheck beats up to
  // kPollsPerHeartbeatCheck polls apart, and wait() beats on its own turns.
  if (polls_to_heartbeat_check_ == 0) {
    polls_to_heartbeat_check_ = kPollsPerHeartbeatCheck;
    beat_heart();
  }
  polls_to_heartbeat_check_ -= 1;
  if (damaged_at_ == position_) skip_damage();
  // Counted here, and the result filled in at the end: counted in the result, whose address went
  // to poll_group, they lived in memory, stored and loaded again around every handler call.
  std::size_t records = 0;
  PollStatus status = PollStatus::ok;
  // attached_: a handler may detach (then the poll ends after its record; see below).
  while (records < max_records && attached_) {
    const std::uint64_t position = position_;
    // Before the head: a lapped position's frame is of a newer lap, which reads as uncommitted.
    // Inside a group, the group's frame is what may be lapped.
    if (may_be_lapped_ && lapped(group_start_ != kNoGroup ? group_start_ : position)) {
      if (skip_lapped()) continue;
      status = report_damage(position,
                             "the header cannot be right: its paging frontier is more than a lap ahead of the "
                             "head, or its head is no position a producer writes");
      break;
    }
    if (group_start_ != kNoGroup) {
      const GroupRead group = poll_group(handler, context, max_records - records);
      records += group.records;
      status = group.status;
      if (!group.go_on) break;
      continue;
    }
    std::byte* frame = view_.at(geometry_.offset_of(position), header_bytes_at(position, geometry_));
    if (frame == nullptr) break;  // no address space for the view now; try again later
    // The frame is read once, here, for the usual case: a committed record below the head we
    // know, or past it and of this session (a consumer that keeps up, see reach_past_known_head).
    FrameRead read = read_frame(frame, position, geometry_);
    if (position >= known_head_) {
      if (is_fresh_record(frame, read)) {
        known_head_ = position + read.stride;
      } else {
        read = FrameRead{};  // what was read before a load of the head is read again after it
        if (!reach_past_known_head(position, &read)) {
          // No producer moves the head back, and this consumer read up to here below it: a head
          // stored back was waited for in silence, until producers came round again (found by a
          // tester). Nothing here is to be skipped: the head, not these bytes, is wrong.
          // Said once a position: polling again finds the same head until it is repaired, and a
          // reader going on past damage (--skip-damaged) printed it at full speed (review).
          if (head_below_at_ == position && head_back_reported_at_ != position) [[unlikely]] {
            head_back_reported_at_ = position;
            status = report_damage(position, "the ring's head went back below this position, which this consumer had "
                                             "reached (no producer moves it back: the header was damaged)");
            resume_after_damage_ = position;
          }
          break;
        }
      }
    }
    replay_.reached(position, view_);
    if (read.kind != FrameKind::data) read = read_frame_unless_claimed(frame, position);
    if (read.kind == FrameKind::uncommitted) {
      if (resolve_uncommitted(frame, position, read.commit_word)) continue;
      if (unclaimed_hole_) status = report_damage(position, "uncommitted bytes below the head that no producer claims");
      break;
    }
    if (read.kind == FrameKind::corrupt) {
      // Torn by an overwrite, not damage (a holding consumer lapped all the same: see
      // resolve_uncommitted).
      if (lapped(position) && (may_be_lapped_ || skip_lapped())) continue;
      status = report_damage(position, read.problem);
      break;
    }
    if (read.kind == FrameKind::padding) {
      position_ += read.stride;
      continue;
    }
    frame = view_.at(geometry_.offset_of(position), read.stride);
    if (frame == nullptr) break;
    if (read.group) {
      enter_group(position, read, frame, format::kRecordHeaderBytes, 0);
      continue;
    }
    const format::RecordHeader& header = header_of(frame);
    Record record;
    record.position = position;
    record.timestamp_ns = header.timestamp_ns;
    record.producer_sequence = header.producer_sequence;
    record.producer_slot = header.producer_slot;
    const std::uint32_t payload_crc = header.payload_crc32c;
    const std::size_t payload_bytes = read.frame_length - format::kRecordHeaderBytes;
    const std::byte* payload = frame + format::kRecordHeaderBytes;
    if (may_be_lapped_) {
      payload = copy_unless_lapped(payload, payload_bytes, position);
      if (payload == nullptr) continue;
    }
    record.payload = {payload, payload_bytes};
    // The flag in the commit word, not a non-zero stored CRC, says whether there is one to check:
    // a torn header's zero CRC is a mismatch (record_header.hpp). Front to back: the payload is
    // another core's writing, or in memory when this consumer is behind.
    if (options_.verify_checksums && read.checksummed && crc32c_front_to_back(record.payload) != payload_crc) {
      stats_.checksum_failures += 1;
      status = report_damage(position, kChecksumMismatch);
      break;
    }
    count_sequence(record.producer_slot, record.producer_sequence);
    if (!handler(context, record)) break;  // left unread: the next poll starts with it
    position_ += read.stride;
    records += 1;
    stats_.records += 1;
    stats_.bytes += payload_bytes;
  }
  // position_ below committed_ after a seek back: the cursor never moves back (commit_at). Not
  // once a handler detached: the slot may be another consumer's by now, whose cursor this would
  // move (found by a tester: an anonymous consumer's records were committed as a named one's).
  if (options_.auto_commit && attached_ && position_ > committed_) store_cursor(position_);
  if (losses_to_settle_ && records == 0 && status == PollStatus::ok) settle_tail_losses();
  result.records = records;
  result.status = status;
  if (status == PollStatus::corrupt) result.error_message = std::move(damage_message_);
  return result;
}

bool ConsumerCore::poll_has_work() noexcept {
  if (group_start_ != kNoGroup) return true;  // the rest of a committed group
  if (may_be_lapped_ && lapped(position_)) return true;
  FrameRead ignored;
  if (position_ >= known_head_ && !reach_past_known_head(position_, &ignored)) return false;
  std::byte* frame = view_.at(geometry_.offset_of(position_), header_bytes_at(position_, geometry_));
  if (frame == nullptr) return false;
  const FrameRead read = read_frame_unless_claimed(frame, position_);
  if (read.kind != FrameKind::uncommitted) return true;
  return resolve_uncommitted(frame, position_, read.commit_word) || unclaimed_hole_;
}

CommitWordWatch ConsumerCore::watch_next_frame() noexcept {
  if (group_start_ != kNoGroup) return {};  // not a frame's start; poll_has_work says there is work
  return watch_commit_word(view_.at(geometry_.offset_of(position_), header_bytes_at(position_, geometry_)), position_,
                           geometry_);
}

// In a ping-pong the record usually arrives within a microsecond. Measured in one run against
// the wait below alone (64 B records between two processes, busy spin, 2000 round trips of each
// in turn): its round trip / 2 at p50 160-250 ns against 190-290. The wait below read
// CLOCK_MONOTONIC before its first look and the coarse clocks at every look, and every look was
// poll_has_work's; the commit that ends the spin was then found by a full look, and read again
// by the poll that followed, 40-50 ns in all. (wait now reads CLOCK_MONOTONIC once before this
// spin, for its timeout: before the looks, so not between a commit and the look that finds it.)
bool ConsumerCore::quick_spin(CommitWordWatch& watch, std::uint64_t spin_ns) noexcept {
  const auto looks = static_cast<std::uint32_t>(std::min<std::uint64_t>(kQuickLooks, spin_ns / kLookIntervalNs + 1));
  for (std::uint32_t look = 0; look < looks; ++look) {
    pause_before_look();
    if (watch.unchanged()) continue;
    // The poll that follows reads and checks the frame; a commit word of this lap is enough here.
    if (watch.committed_in_lap()) {
      watch.prefetch_rest_of_frame();
      return true;
    }
    // Taken before the look, so that a commit between the two shows as a change.
    const CommitWordWatch next = watch_next_frame();
    if (poll_has_work()) return true;
    watch = next;
  }
  return false;
}

bool ConsumerCore::wait(std::chrono::nanoseconds timeout) {
  if (!attached_) return false;
  const bool spins_first = options_.idle != IdleStrategy::sleep && timeout.count() > 0;
  // Taken before the look, so that a commit between the two shows as a change.
  CommitWordWatch watch = spins_first ? watch_next_frame() : CommitWordWatch{};
  if (poll_has_work()) return true;
  // Read before the quick spin: its looks count against the timeout and the spin's length. Off
  // the path of a record that arrives during the spin, which the next look finds anyway.
  const std::uint64_t start = monotonic_ns();
  if (spins_first) {
    const auto timeout_ns = static_cast<std::uint64_t>(timeout.count());
    const bool adapts = options_.idle == IdleStrategy::spin_then_sleep;
    if (quick_spin(watch, adapts ? std::min(timeout_ns, spin_ns_) : timeout_ns)) {
      // The spin paid, as below: a consumer whose spin had shrunk to kShortestSpinNs, with its
      // whole spin now quick, would otherwise never spin longer again.
      spin_ns_ = std::min(2 * spin_ns_, kSpinBeforeSleepNs);
      return true;
    }
  }
  const std::uint64_t deadline =
      timeout.count() <= 0 ? start : start + static_cast<std::uint64_t>(timeout.count());
  // About as often in time as with a pause a look: each turn now waits pauses_per_look_ pauses.
  const std::uint32_t turns_per_clock_read = std::max<std::uint32_t>(2, kSpinsPerClockRead / pauses_per_look_);
  auto& line = header_.data_wait;
  std::uint64_t now = start;
  bool spinning = true;
  for (std::uint32_t turn = 0;; ++turn) {
    beat_heart();
    // Spinning, the clock is read every few turns only: a reading costs more than a turn. The
    // spin ends on a turn that read it, so the sleeps below always start from a fresh reading.
    if (!spinning || turn % turns_per_clock_read == 0) now = monotonic_ns();
    if (now >= deadline) return false;
    const bool was_spinning = spinning;
    spinning = options_.idle == IdleStrategy::busy_spin ||
               (options_.idle == IdleStrategy::spin_then_sleep && now < start + spin_ns_);
    if (spinning) {
      // Now and then, let a producer waiting for this CPU run: with more busy processes than
      // CPUs, the record we spin for may be the one our spinning keeps from being written.
      // Not busy_spin: who chose it gave each side a CPU of its own.
      if (options_.idle == IdleStrategy::spin_then_sleep && turn % turns_per_clock_read == turns_per_clock_read - 1) {
        sched_yield();
      } else {
        pause_before_look();
      }
      if (!poll_has_work()) continue;
      spin_ns_ = std::min(2 * spin_ns_, kSpinBeforeSleepNs);  // the spin paid: spin longer next time
      // As the quick spin does: the poll that follows reads the rest of the frame next.
      if (const CommitWordWatch found = watch_next_frame(); found.committed_in_lap()) found.prefetch_rest_of_frame();
      return true;
    }
    if (was_spinning && options_.idle == IdleStrategy::spin_then_sleep) {
      spin_ns_ = std::max(spin_ns_ / 2, kShortestSpinNs);  // spun for nothing: spin less next time
    }
    if (slot_ == nullptr) {
      // A read-only tap cannot count itself among the sleepers, so nobody wakes it for sure:
      // it sleeps in short slices (woken early when another consumer is woken).
      const std::uint32_t observed = atomic_field(line.futex_word).load(std::memory_order_acquire);
      futex_wait(&line.futex_word, observed,
                 std::chrono::nanoseconds(std::min<std::uint64_t>(deadline - now, kReadOnlyPollNs)));
      if (poll_has_work()) return true;
      continue;
    }
    // seq_cst increment, then re-check: see wakeups.hpp.
    atomic_field(line.sleepers).fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t observed = atomic_field(line.futex_word).load(std::memory_order_seq_cst);
    bool has_work = poll_has_work();
    if (!has_work) {
      // Sleep in slices: a dead producer never wakes us, and the heartbeat must go on.
      const bool stuck = stuck_position_ == position_;
      const std::uint64_t slice = std::min<std::uint64_t>(
          deadline - now, stuck ? kStuckRecheckNs : kHeartbeatIntervalNs);
      futex_wait(&line.futex_word, observed, std::chrono::nanoseconds(slice));
      has_work = poll_has_work();
    }
    // seq_cst, as the increment: the pair brackets the re-check (wakeups.hpp).
    atomic_field(line.sleepers).fetch_sub(1, std::memory_order_seq_cst);
    if (has_work) return true;
  }
}

void ConsumerCore::commit() noexcept { commit_at(position_); }

bool ConsumerCore::commit_at(std::uint64_t position) noexcept {
  // A cursor never moves back (producers may already have used the space it released) nor past
  // what this consumer has read.
  if (!attached_ || position < committed_ || position > position_) return false;
  if (position == committed_) return true;
  if (position != position_ && !is_boundary_read_past(position)) return false;
  store_cursor(position);
  return true;
}

bool ConsumerCore::is_boundary_read_past(std::uint64_t position) noexcept {
  if (position % format::kFrameAlignment != 0) return false;
  if (geometry_.offset_of(position) == 0) return true;  // every lap starts with a frame
  // A view of its own: poll's may not move, as a handler that commits may be reading through it,
  // and poll goes on with the frame it holds after the handler returns.
  if (!boundary_view_) boundary_view_.emplace(file_, DataView::Access::read_only, DataView::Use::reading);
  DataView& view = *boundary_view_;
  std::byte* frame = view.at(geometry_.offset_of(position), header_bytes_at(position, geometry_));
  // A frame that names this position (a record, a group of records, padding), or a record's entry
  // in a group. A cursor saved inside a record stalled the next attach there until the unblock
  // timeout, then read as damage (found by a tester).
  if (frame != nullptr) {
    const FrameKind kind = read_frame(frame, position, geometry_).kind;
    if (kind == FrameKind::data || kind == FrameKind::padding || locate_group_entry(view, position, geometry_)) {
      return true;
    }
  }
  // Overwritten since it was read (a consumer producers may lap), before or while it was looked
  // at: nothing left to tell by. A cursor saved there is a lapped one, which the next attach
  // skips on from.
  return may_be_lapped_ && lapped(position);
}

// Block policy, holding: once within the hold window of the head, hold producers there, so that
// they never get further ahead than what memory keeps for us (paging.hpp). A consumer further
// behind (replaying, or back after a while) holds them only at the capacity until it gets here.
void ConsumerCore::follow_if_within_hold_window() noexcept {
  const std::uint64_t hold_window = hold_window_in_force(file_);
  // Acquire: pairs with the producers' seq_cst head CAS; only decides whether to follow yet.
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (head > committed_ + hold_window) return;
  // seq_cst, and before the limit is lowered: a producer that recomputes the limit after our
  // CAS below sees the flag (its seq_cst load in refresh_producer_limit); one that computed it
  // before fails its CAS against ours and recomputes. Pacing is soft: a producer that reserved
  // past the new limit meanwhile finishes that one record.
  atomic_field(slot_->flags).fetch_or(format::kConsumerFollowing, std::memory_order_seq_cst);
  following_ = true;
  lower_producer_limit(file_, kept_from_cursor(geometry_, committed_) + hold_window);
}

Lag ConsumerCore::lag() const {
  Lag lag;
  // Acquire: pairs with the producers' head CAS; only a figure for the caller.
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  lag.bytes = head > position_ ? head - position_ : 0;
  if (auto meta = ring_.first_record_from(position_)) {
    const std::uint64_t now = realtime_ns();
    lag.seconds = now > meta->timestamp_ns ? static_cast<double>(now - meta->timestamp_ns) / 1e9 : 0.0;
  } else if (lag.bytes == 0) {
    lag.seconds = 0.0;
  }
  return lag;
}

}  // namespace detail

Consumer::Consumer(std::unique_ptr<detail::ConsumerCore> core) : core_(std::move(core)) {}
Consumer Consumer::attach(const Ring& ring, const ConsumerOptions& options) {
  return Consumer(std::make_unique<detail::ConsumerCore>(ring, options));
}
Consumer Consumer::attach(const std::filesystem::path& path, const ConsumerOptions& options) {
  try {
    return attach(Ring::open(path), options);
  } catch (const Error& error) {
    // A tap needs no write access: without it, it reads through a read-only mapping.
    if (error.code() != ErrorCode::permission_denied || options.holds_back || !options.name.empty()) throw;
  }
  return attach(Ring::open(path, {.read_only = true}), options);
}
Consumer::~Consumer() = default;
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;

PollResult Consumer::poll_raw(HandlerFn handler, void* context, std::size_t max_records) {
  return core_->poll(handler, context, max_records);
}
bool Consumer::wait(std::chrono::nanoseconds timeout) { return core_->wait(timeout); }
void Consumer::commit() { core_->commit(); }
bool Consumer::commit(std::uint64_t position) { return core_->commit_at(position); }
void Consumer::detach() { core_->detach(); }
std::uint64_t Consumer::position() const noexcept { return core_->position(); }
Lag Consumer::lag() const { return core_->lag(); }
const ConsumerStats& Consumer::stats() const noexcept { return core_->stats(); }
const ConsumerStats& Consumer::carried_stats() const noexcept { return core_->carried_stats(); }
bool Consumer::name_expired() const noexcept { return core_->name_expired(); }
std::uint32_t Consumer::slot() const noexcept { return core_->slot(); }
const Ring& Consumer::ring() const noexcept { return core_->ring(); }

}  // namespace ringfile
