// Reading records: poll, wait, commit, and recovery from lapping and stuck claims.
#include "ringfile/consumer.hpp"

#include <algorithm>
#include <cstring>

#include <fcntl.h>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_core.hpp"
#include "futex.hpp"
#include "paging.hpp"
#include "process_identity.hpp"
#include "record_search.hpp"
#include "ringfile/crc32c.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile {
namespace detail {

namespace {
// An uncommitted frame below the head is usually a producer mid-copy; only after this long do we
// look for its owner in the producer table, and then again at this interval.
constexpr std::uint64_t kStuckGraceNs = 1'000'000;
constexpr std::uint64_t kStuckRecheckNs = 10'000'000;
constexpr std::uint64_t kHeartbeatIntervalNs = 100'000'000;
constexpr unsigned kSpinsBeforeSleep = 2000;
}  // namespace

bool ConsumerCore::lapped(std::uint64_t position) const noexcept {
  // Producers write only after reserving, and the paging engine invalidates only after
  // publishing its frontier: while neither is a lap ahead of `position`, nothing there changed.
  return reclaimed_frontier(header_) > position + geometry_.capacity;
}

std::uint64_t ConsumerCore::oldest_boundary(std::uint64_t margin) noexcept {
  return oldest_intact_boundary(file_, view_, margin);
}

void ConsumerCore::skip_lapped() noexcept {
  // Land a little ahead of the oldest byte so that the producers do not lap us again at once.
  const std::uint64_t margin = std::min(geometry_.capacity / 4, 4 * geometry_.max_frame_stride);
  const std::uint64_t restart = oldest_boundary(margin);
  stats_.lapped_count += 1;
  stats_.lost_bytes += restart - position_;
  atomic_field(slot_->lost_bytes).store(stats_.lost_bytes, std::memory_order_relaxed);
  position_ = restart;
}

void ConsumerCore::count_sequence(std::uint16_t producer_slot, std::uint64_t sequence) noexcept {
  if (producer_slot >= format::kProducerSlotCount) return;
  // Producer sequences continue across owners of a slot, so a jump is records we never saw.
  if (sequence_known_[producer_slot] && sequence > expected_sequence_[producer_slot]) {
    stats_.lost_records += sequence - expected_sequence_[producer_slot];
    atomic_field(slot_->lost_records).store(stats_.lost_records, std::memory_order_relaxed);
  }
  sequence_known_[producer_slot] = true;
  expected_sequence_[producer_slot] = sequence + 1;
}

void ConsumerCore::beat_heart() noexcept {
  const std::uint64_t now = coarse_realtime_ns();
  if (now < last_heartbeat_ns_ + kHeartbeatIntervalNs) return;
  last_heartbeat_ns_ = now;
  // Relaxed: the heartbeat is advisory (status, grace period); nothing is published with it.
  atomic_field(slot_->heartbeat_ns).store(now, std::memory_order_relaxed);
}

// The frame at `position` is below the head but uncommitted. Returns true when it was padded
// over (its producer died, or it outlived the unblock timeout), so the caller reads it again.
bool ConsumerCore::resolve_uncommitted(std::byte* frame, std::uint64_t position,
                                       std::uint64_t commit_word) noexcept {
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (head <= position) {
    stuck_position_ = ~std::uint64_t{0};
    return false;  // simply caught up
  }
  const std::uint64_t now = monotonic_ns();
  if (stuck_position_ != position) {
    stuck_position_ = position;
    stuck_since_ns_ = now;
    next_stuck_check_ns_ = now + kStuckGraceNs;
    return false;
  }
  if (now < next_stuck_check_ns_) return false;
  next_stuck_check_ns_ = now + kStuckRecheckNs;
  const auto unblock_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(file_.info().unblock_timeout).count());
  for (auto& producer : header_.producers) {
    const OpenClaim claim = read_claim(producer);
    if (position < claim.start || position >= claim.end) continue;
    const bool owner_gone =
        atomic_field(producer.state).load(std::memory_order_acquire) ==
            static_cast<std::uint32_t>(format::ProducerState::free) ||
        !is_alive(owner_of(producer));
    const bool outlived_timeout = realtime_ns() > claim.time_ns + unblock_ns;
    if (!owner_gone && !outlived_timeout) return false;
    const std::uint64_t padding_end = std::min(claim.end, geometry_.lap_end(position));
    if (pad_over(frame, position, padding_end - position, commit_word, geometry_)) {
      wake_sleepers(header_.data_wait);  // other consumers wait on the same frame
    }
    return true;  // padded by us, or changed under us: read it again either way
  }
  return false;
}

// A consumer far behind the head replays history nobody else needs: it reads ahead
// asynchronously and drops what it has passed, so its pages do not push the followers' out.
void ConsumerCore::moved_to_window(std::uint64_t position) noexcept {
  const std::uint64_t left_start = window_start_;
  window_start_ = view_.window_start();
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (head - position <= file_.info().follow_window_bytes || file_.info().paging == PagingStrategy::none) return;
  const std::uint64_t data_offset = file_.info().data_offset;
  const std::uint64_t step = file_.view_step();
  if (left_start + step <= geometry_.offset_of(position)) {
    ::posix_fadvise(file_.fd(), static_cast<off_t>(data_offset + left_start), static_cast<off_t>(step),
                    POSIX_FADV_DONTNEED);
  }
  const std::uint64_t next_start = window_start_ + file_.view_bytes();
  if (next_start < geometry_.capacity) {
    ::posix_fadvise(file_.fd(), static_cast<off_t>(data_offset + next_start),
                    static_cast<off_t>(std::min(step, geometry_.capacity - next_start)), POSIX_FADV_WILLNEED);
  }
}

PollStatus ConsumerCore::fail(std::uint64_t position, const char* problem) {
  error_message_ = "'" + file_.info().path.string() + "': corrupt record at position " +
                   std::to_string(position) + ": " + problem +
                   "; the file is damaged (restore it, or skip with --from POSITION)";
  return PollStatus::corrupt;
}

PollResult ConsumerCore::poll(Consumer::HandlerFn handler, void* context, std::size_t max_records) {
  PollResult result;
  if (!attached_) return result;
  beat_heart();
  while (result.records < max_records) {
    const std::uint64_t position = position_;
    if (checked_ && lapped(position)) {
      skip_lapped();
      continue;
    }
    std::byte* frame = view_.at(geometry_.offset_of(position), header_bytes_at(position, geometry_));
    if (frame == nullptr) break;  // no address space for the view now; try again later
    if (view_.window_start() != window_start_) moved_to_window(position);
    const FrameRead read = read_frame(frame, position, geometry_);
    if (read.kind == FrameKind::uncommitted) {
      if (resolve_uncommitted(frame, position, read.commit_word)) continue;
      break;
    }
    if (read.kind == FrameKind::corrupt) {
      if (checked_ && lapped(position)) continue;  // torn by an overwrite, not damage
      result.status = fail(position, read.problem);
      break;
    }
    if (read.kind == FrameKind::padding) {
      position_ += read.stride;
      continue;
    }
    frame = view_.at(geometry_.offset_of(position), read.stride);
    if (frame == nullptr) break;
    const format::RecordHeader& header = header_of(frame);
    Record record;
    record.position = position;
    record.timestamp_ns = header.timestamp_ns;
    record.producer_sequence = header.producer_sequence;
    record.producer_slot = header.producer_slot;
    const std::uint32_t payload_crc = header.payload_crc32c;
    const std::size_t payload_bytes = read.frame_length - format::kRecordHeaderBytes;
    const std::byte* payload = frame + format::kRecordHeaderBytes;
    if (checked_) {
      // Seqlock-style read: copy, then confirm no producer reserved over it meanwhile.
      scratch_.resize(payload_bytes);
      std::memcpy(scratch_.data(), payload, payload_bytes);
      acquire_fence();
      if (lapped(position)) continue;
      payload = scratch_.data();
    }
    record.payload = {payload, payload_bytes};
    if (options_.verify_checksums && payload_crc != 0 && crc32c(record.payload) != payload_crc) {
      stats_.checksum_failures += 1;
      result.status = fail(position, "payload checksum mismatch");
      break;
    }
    count_sequence(record.producer_slot, record.producer_sequence);
    if (!handler(context, record)) break;  // left unread: the next poll starts with it
    position_ += read.stride;
    result.records += 1;
    stats_.records += 1;
    stats_.bytes += payload_bytes;
  }
  if (options_.auto_commit && position_ != committed_) commit();
  return result;
}

bool ConsumerCore::ready() noexcept {
  if (checked_ && lapped(position_)) return true;
  std::byte* frame = view_.at(geometry_.offset_of(position_), header_bytes_at(position_, geometry_));
  if (frame == nullptr) return false;
  const FrameRead read = read_frame(frame, position_, geometry_);
  if (read.kind != FrameKind::uncommitted) return true;
  return resolve_uncommitted(frame, position_, read.commit_word);
}

bool ConsumerCore::wait(std::chrono::nanoseconds timeout) {
  if (!attached_) return false;
  if (ready()) return true;
  const std::uint64_t start = monotonic_ns();
  const std::uint64_t deadline =
      timeout.count() <= 0 ? start : start + static_cast<std::uint64_t>(timeout.count());
  unsigned spins = 0;
  auto& line = header_.data_wait;
  for (;;) {
    beat_heart();
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) return false;
    if (options_.idle == IdleStrategy::busy_spin ||
        (options_.idle == IdleStrategy::spin_then_sleep && spins < kSpinsBeforeSleep)) {
      ++spins;
      cpu_relax();
      if (ready()) return true;
      continue;
    }
    // seq_cst increment, then re-check: see wakeups.hpp.
    atomic_field(line.sleepers).fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t observed = atomic_field(line.futex_word).load(std::memory_order_seq_cst);
    bool is_ready = ready();
    if (!is_ready) {
      // Sleep in slices: a dead producer never wakes us, and the heartbeat must go on.
      const bool stuck = stuck_position_ == position_;
      const std::uint64_t slice = std::min<std::uint64_t>(
          deadline - now, stuck ? kStuckRecheckNs : kHeartbeatIntervalNs);
      futex_wait(&line.futex_word, observed, std::chrono::nanoseconds(slice));
      is_ready = ready();
    }
    atomic_field(line.sleepers).fetch_sub(1, std::memory_order_seq_cst);
    if (is_ready) return true;
  }
}

void ConsumerCore::commit() noexcept {
  if (!attached_ || position_ == committed_) return;
  atomic_field(slot_->consumed_records).store(stats_.records, std::memory_order_relaxed);
  // seq_cst: pairs with producers' seq_cst cursor loads (refresh_producer_limit), and orders
  // before the sleeper-count load in wake_sleepers (Dekker, see wakeups.hpp).
  atomic_field(slot_->cursor).store(position_, std::memory_order_seq_cst);
  committed_ = position_;
  wake_sleepers(header_.space_wait);
}

Lag ConsumerCore::lag() const {
  Lag lag;
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  lag.bytes = head > position_ ? head - position_ : 0;
  if (auto meta = ring_.record_at(position_)) {
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
  return attach(Ring::open(path), options);
}
Consumer::~Consumer() = default;
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;

PollResult Consumer::poll_raw(HandlerFn handler, void* context, std::size_t max_records) {
  return core_->poll(handler, context, max_records);
}
bool Consumer::wait(std::chrono::nanoseconds timeout) { return core_->wait(timeout); }
void Consumer::commit() { core_->commit(); }
void Consumer::detach() { core_->detach(); }
std::uint64_t Consumer::position() const noexcept { return core_->position(); }
Lag Consumer::lag() const { return core_->lag(); }
const ConsumerStats& Consumer::stats() const noexcept { return core_->stats(); }
std::uint32_t Consumer::slot() const noexcept { return core_->slot(); }
const std::string& Consumer::error_message() const noexcept { return core_->error_message(); }
const Ring& Consumer::ring() const noexcept { return core_->ring(); }

}  // namespace ringfile
