#include "paging.hpp"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>
#include <limits>

#include "atomics.hpp"
#include "process_identity.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kPage = format::kPageBytes;
constexpr std::uint64_t kSmallRingBytes = 512 * kMiB;
constexpr std::uint64_t kLargestFolioBytes = 2 * kMiB;  // PMD size on x86-64

std::uint64_t round_down(std::uint64_t value, std::uint64_t unit) noexcept { return value / unit * unit; }

// The preparer's identity packed into the one word that is also the preparation lock: a single
// CAS both claims the work and says who holds it. Linux pids fit in 32 bits; the low 32 bits of
// the start time tell a recycled pid apart.
std::uint64_t owner_word(const ProcessIdentity& identity) noexcept {
  return identity.pid << 32 | (identity.start_time & 0xFFFFFFFFu);
}
bool owner_alive(std::uint64_t word) noexcept {
  const std::uint64_t pid = word >> 32;
  const std::uint64_t start = process_start_time(pid);
  return start != 0 && (start & 0xFFFFFFFFu) == (word & 0xFFFFFFFFu);
}

bool fallocate_supported(int fd, int mode) noexcept {
  // The last page of the header segment is reserved and always zero: a safe place to probe,
  // before the header is written.
  const off_t probe = static_cast<off_t>(format::kHeaderSegmentBytes - kPage);
  return ::fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, probe, static_cast<off_t>(kPage)) == 0;
}

}  // namespace

PagingStrategy resolve_paging_strategy(int fd, std::uint64_t capacity, PagingStrategy requested) {
  struct statfs filesystem {};
  const bool on_tmpfs =
      ::fstatfs(fd, &filesystem) == 0 && static_cast<unsigned long>(filesystem.f_type) == TMPFS_MAGIC;
  if (requested == PagingStrategy::automatic) {
    // tmpfs: the ring is memory, there is nothing to read back or drop. A small ring is best left
    // resident whole: invalidating pages still in memory only costs unmapping and refaulting them.
    if (on_tmpfs || capacity <= kSmallRingBytes) return PagingStrategy::none;
    requested = PagingStrategy::zero_range;
  }
  if (requested == PagingStrategy::zero_range && !fallocate_supported(fd, FALLOC_FL_ZERO_RANGE)) {
    requested = PagingStrategy::punch_hole;
  }
  if (requested == PagingStrategy::punch_hole &&
      !(fallocate_supported(fd, FALLOC_FL_PUNCH_HOLE) && fallocate_supported(fd, 0))) {
    requested = PagingStrategy::prefetch_only;
  }
  return requested;
}

format::PagingStrategyCode to_code(PagingStrategy strategy) noexcept {
  switch (strategy) {
    case PagingStrategy::zero_range: return format::PagingStrategyCode::zero_range;
    case PagingStrategy::punch_hole: return format::PagingStrategyCode::punch_hole;
    case PagingStrategy::prefetch_only: return format::PagingStrategyCode::prefetch_only;
    case PagingStrategy::automatic:
    case PagingStrategy::none: break;
  }
  return format::PagingStrategyCode::none;
}

PagingStrategy from_code(format::PagingStrategyCode code) noexcept {
  switch (code) {
    case format::PagingStrategyCode::zero_range: return PagingStrategy::zero_range;
    case format::PagingStrategyCode::punch_hole: return PagingStrategy::punch_hole;
    case format::PagingStrategyCode::prefetch_only: return PagingStrategy::prefetch_only;
    case format::PagingStrategyCode::none: break;
  }
  return PagingStrategy::none;
}

std::uint64_t reclaimed_frontier(const format::FileHeader& header) noexcept {
  // Acquire: pairs with the seq_cst head CAS and the seq_cst store of preparing_end, both made
  // before any byte in the range is overwritten or invalidated.
  const std::uint64_t head = load_field(header.head_position.value, std::memory_order_acquire);
  const std::uint64_t preparing = load_field(header.preparation.preparing_end, std::memory_order_acquire);
  return std::max(head, preparing);
}

Pager::Pager(RingFile& file) : file_(file), strategy_(file.info().paging) {
  const std::uint64_t capacity = file.geometry().capacity;
  // Chunks of half a view on large rings; small rings get small chunks so that preparation
  // never eats more than a small fraction of their history.
  chunk_bytes_ = std::clamp(round_down(capacity / 16, kPage), kPage, file.view_step());
  // A full view ahead plus a chunk, so that fault read-around never reaches unprepared bytes.
  ahead_bytes_ = std::min(file.view_bytes() + chunk_bytes_, std::max(round_down(capacity / 8, kPage), 2 * chunk_bytes_));
  follow_window_bytes_ = file.info().follow_window_bytes;
  sticky_window_bytes_ = std::max(follow_window_bytes_, std::min(capacity / 4, 16 * file.view_bytes()));
  // Pages up to a view behind the slowest follower may still be mapped by its window.
  keep_behind_bytes_ = file.view_bytes() + chunk_bytes_;
  most_lag_bytes_ = file.policy() == WriterPolicy::block ? sticky_window_bytes_ : follow_window_bytes_;
  resident_budget_bytes_ = ahead_bytes_ + most_lag_bytes_ + keep_behind_bytes_ + chunk_bytes_;
  redrop_bytes_ = std::min(capacity / 4, 4 * chunk_bytes_ + kLargestFolioBytes);
}

std::uint64_t Pager::resident_bound_bytes() const noexcept {
  return resident_budget_bytes_ + kLargestFolioBytes + format::kHeaderSegmentBytes;
}

PrepareOutcome Pager::prepare_until(std::uint64_t target) noexcept {
  if (strategy_ == PagingStrategy::none) return PrepareOutcome::ready;  // no frontier kept
  for (;;) {
    const std::uint64_t prepared =
        atomic_field(file_.header().prepared_position.value).load(std::memory_order_acquire);
    if (prepared >= target) return PrepareOutcome::ready;
    const PrepareOutcome outcome = prepare_range(target);
    if (outcome != PrepareOutcome::ready) return outcome;
  }
}

PrepareOutcome Pager::prepare_range(std::uint64_t target) noexcept {
  auto& header = file_.header();
  auto owner = atomic_field(header.preparation.owner_word);
  const std::uint64_t me = owner_word(current_process());
  std::uint64_t holder = 0;
  // seq_cst: the lock; also orders our later loads of the limit after the claim.
  if (!owner.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
    // A holder that died mid-way leaves the lock taken: take it over and redo its range.
    if (holder == me || owner_alive(holder) ||
        !owner.compare_exchange_strong(holder, me, std::memory_order_seq_cst)) {
      return PrepareOutcome::busy;
    }
  }
  auto prepared_line = atomic_field(header.prepared_position.value);
  auto preparing_line = atomic_field(header.preparation.preparing_end);
  const std::uint64_t prepared = prepared_line.load(std::memory_order_acquire);
  std::uint64_t end = preparing_line.load(std::memory_order_acquire);
  PrepareOutcome outcome = PrepareOutcome::ready;
  // end > prepared: a dead holder's range, already checked by it; redo it as it was.
  if (end <= prepared) {
    end = choose_range_end(prepared, target, &outcome);
    if (outcome == PrepareOutcome::ready) {
      // seq_cst store, then the limit load: Dekker with an attaching consumer, which lowers the
      // limit (seq_cst CAS) and then loads preparing_end. Either we see its lower limit and
      // back off, or it sees our frontier and starts after what we invalidate.
      preparing_line.store(end, std::memory_order_seq_cst);
      if (file_.policy() == WriterPolicy::block &&
          atomic_field(header.producer_limit.value).load(std::memory_order_seq_cst) < end) {
        preparing_line.store(prepared, std::memory_order_seq_cst);
        outcome = PrepareOutcome::blocked;
      }
    }
  }
  if (outcome == PrepareOutcome::ready) {
    invalidate(prepared, end);
    // Release: pairs with producers' acquire load before they reserve into the range.
    prepared_line.store(end, std::memory_order_release);
  }
  owner.store(0, std::memory_order_release);
  if (outcome == PrepareOutcome::ready) wake_sleepers(header.space_wait);
  return outcome;
}

// Whole chunks up to the target, in one step (one lock, one limit check, one syscall), but no
// further than the resident budget past the release frontier, nor (block policy) past what
// every holding consumer has read.
std::uint64_t Pager::choose_range_end(std::uint64_t prepared, std::uint64_t target,
                                      PrepareOutcome* outcome) noexcept {
  std::uint64_t end = std::max(round_down(prepared, chunk_bytes_) + chunk_bytes_,
                               round_down(target + chunk_bytes_ - 1, chunk_bytes_));
  auto& header = file_.header();
  const std::uint64_t released = atomic_field(header.released_position.value).load(std::memory_order_acquire);
  const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_acquire);
  // The follow window counts only as far as a follower really lags: with none behind, the
  // budget is a view and a chunk on either side of the head.
  const std::uint64_t follower_lag = head - follower_position(head);
  end = std::min(end, round_down(released + resident_budget_bytes_ - most_lag_bytes_ + follower_lag, kPage));
  if (end <= prepared) {
    *outcome = PrepareOutcome::throttled;
    return prepared;
  }
  if (file_.policy() == WriterPolicy::block) {
    const std::uint64_t limit = refresh_producer_limit(file_, end, liveness_checks_);
    end = std::min(end, round_down(limit, kPage));
    if (end <= prepared) {
      *outcome = PrepareOutcome::blocked;
      return prepared;
    }
  }
  return end;
}

void Pager::invalidate(std::uint64_t start, std::uint64_t end) noexcept {
  const int fd = file_.fd();
  for_each_file_range(file_, start, end, [&](std::uint64_t offset, std::uint64_t length) {
    const auto file_offset = static_cast<off_t>(offset);
    const auto file_length = static_cast<off_t>(length);
    switch (strategy_) {
      case PagingStrategy::zero_range:
        // Failure only costs speed (the old pages get read back), never correctness.
        ::fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, file_offset, file_length);
        break;
      case PagingStrategy::punch_hole:
        // Reserve the blocks again at once: a hole could meet ENOSPC at write-back.
        if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, file_offset, file_length) == 0) {
          ::fallocate(fd, FALLOC_FL_KEEP_SIZE, file_offset, file_length);
        }
        break;
      case PagingStrategy::prefetch_only:
        ::posix_fadvise(fd, file_offset, file_length, POSIX_FADV_WILLNEED);
        break;
      case PagingStrategy::automatic:
      case PagingStrategy::none:
        break;
    }
  });
}

void Pager::start_writeback() noexcept {
  if (strategy_ == PagingStrategy::none) return;
  const std::uint64_t head = atomic_field(file_.header().head_position.value).load(std::memory_order_acquire);
  // Leave the chunk under the producers alone: pages written back now would be dirtied again.
  const std::uint64_t until = round_down(head, chunk_bytes_);
  if (until <= written_back_until_) return;
  const std::uint64_t from = std::max(written_back_until_, until > file_.geometry().capacity ? until - file_.geometry().capacity : 0);
  for_each_file_range(file_, from, until, [&](std::uint64_t offset, std::uint64_t length) {
    ::sync_file_range(file_.fd(), static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE);
  });
  written_back_until_ = until;
}

// The slowest consumer that keeps up (within the follow window of the head); those further
// behind replay and drop behind themselves. The head when there is none.
//
// Under the block policy a holding consumer that was following stays a follower until it is a
// quarter of the ring behind (at most 16 views): its pages stay in memory and the producers,
// held by the resident budget, wait for it, as the policy means. Dropping its pages instead sends
// it to the disk, which slows it down further (measured: 0.75 GB read back in one run of the
// bench with readers). Under overwrite producers never wait, so the window stays as it is.
std::uint64_t Pager::follower_position(std::uint64_t head) noexcept {
  const bool blocking = file_.policy() == WriterPolicy::block;
  std::uint64_t follower = head;
  for (auto& slot : file_.header().consumers) {
    if (atomic_field(slot.state).load(std::memory_order_acquire) !=
        static_cast<std::uint32_t>(format::ConsumerState::active)) {
      continue;
    }
    auto flags = atomic_field(slot.flags);
    const std::uint32_t seen = flags.load(std::memory_order_acquire);
    const bool holding = blocking && (seen & format::kConsumerHoldsBack) != 0 && (seen & format::kConsumerExpired) == 0;
    const bool was_following = (seen & format::kConsumerFollowing) != 0;
    const std::uint64_t window = holding && was_following ? sticky_window_bytes_ : follow_window_bytes_;
    const std::uint64_t cursor = atomic_field(slot.cursor).load(std::memory_order_acquire);
    const bool following = cursor <= head && head - cursor <= window;
    if (following) follower = std::min(follower, cursor);
    // In the file, so that every process's engine agrees; written only when it changes.
    // Relaxed: the flag only steers memory use; nothing is published with it.
    if (following && !was_following) flags.fetch_or(format::kConsumerFollowing, std::memory_order_relaxed);
    if (!following && was_following) flags.fetch_and(~std::uint32_t{format::kConsumerFollowing}, std::memory_order_relaxed);
  }
  return follower;
}

void Pager::release_behind() noexcept {
  if (strategy_ == PagingStrategy::none) return;
  auto& header = file_.header();
  const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_acquire);
  const std::uint64_t capacity = file_.geometry().capacity;
  const std::uint64_t follower = follower_position(head);
  if (follower < keep_behind_bytes_) return;
  const std::uint64_t target = round_down(follower - keep_behind_bytes_, chunk_bytes_);
  auto released = atomic_field(header.released_position.value);
  std::uint64_t from = released.load(std::memory_order_acquire);
  const std::uint64_t first = from;
  while (from < target) {
    // Nothing older than a lap behind the target is still in the page cache under this name.
    const std::uint64_t start = std::max(from, target > capacity ? target - capacity : 0);
    const std::uint64_t end = std::min(target, round_down(start, chunk_bytes_) + chunk_bytes_);
    // Exactly once per chunk: whoever moves the frontier drops what it passed. One chunk at a
    // time, dropped before the next is taken, so that the frontier (which paces preparation
    // ahead) is never more than a chunk ahead of what has really left memory.
    if (!released.compare_exchange_weak(from, end, std::memory_order_acq_rel)) continue;
    drop_range(start, end);
    from = end;
  }
  if (from == first) return;
  // Pages still under write-back when their chunk was dropped stay in memory (sync_file_range
  // does not wait for pages another writer holds): go over a trailing stretch once more.
  const std::uint64_t retry_from = first > redrop_bytes_ ? first - redrop_bytes_ : 0;
  drop_range(std::max(retry_from, released_again_until_), first);
  released_again_until_ = first;
}

void Pager::drop_range(std::uint64_t start, std::uint64_t end) noexcept {
  for_each_file_range(file_, start, end, [&](std::uint64_t offset, std::uint64_t length) {
    // The page cache holds large folios (up to 2 MiB), and DONTNEED drops only those wholly
    // inside its range: reach back to a folio boundary so that one straddling the previous
    // release is dropped now. Everything there is behind the followers already.
    const std::uint64_t reach_back = std::max(file_.info().data_offset, round_down(offset, kLargestFolioBytes));
    const auto file_offset = static_cast<off_t>(reach_back);
    const auto file_length = static_cast<off_t>(offset + length - reach_back);
    // Dirty pages cannot be dropped: write them back first (off the hot path).
    ::sync_file_range(file_.fd(), file_offset, file_length,
                      SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    ::posix_fadvise(file_.fd(), file_offset, file_length, POSIX_FADV_DONTNEED);
  });
}

}  // namespace ringfile::detail
