// The paging engine at work (Pager): preparing the stretch ahead of the head, writing back and
// dropping what the consumers have left behind. Its sizes are in paging_sizes.cpp, the choice of
// strategy in paging_strategy.cpp.
#include "paging.hpp"

#include <fcntl.h>
#include <linux/falloc.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <vector>

#include "atomics.hpp"
#include "process_identity.hpp"
#include "ring_registry.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kPage = format::kPageBytes;
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
  // Hidden (another user's, /proc mounted with hidepid): alive, as is_alive() says why.
  return start == kStartTimeHidden || (start != 0 && (start & 0xFFFFFFFFu) == (word & 0xFFFFFFFFu));
}

// Fills [offset, offset + length) of the file with zeros through the page cache (full pages: no
// read). Safe only where nobody reads or writes: inside a preparation, before the frontier moves.
void write_zeros(int fd, off_t offset, off_t length) noexcept {
  static const std::vector<std::byte> zeros(1 << 20);
  for (off_t done = 0; done < length;) {
    const auto piece = static_cast<std::size_t>(std::min<off_t>(length - done, static_cast<off_t>(zeros.size())));
    const ssize_t written = ::pwrite(fd, zeros.data(), piece, offset + done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // only costs speed: the fill then faults the pages in itself
    done += written;
  }
}

}  // namespace

std::uint64_t reclaimed_frontier(const RingFile& file) noexcept {
  const format::FileHeader& header = file.header();
  // Acquire: pairs with the seq_cst head CAS and the seq_cst store of preparing_end, both made
  // before any byte in the range is overwritten or invalidated.
  const std::uint64_t head = load_field(header.head_position.value, std::memory_order_acquire);
  // Without a paging engine nothing prepares ahead: preparing_end keeps the capacity it was
  // created with, and any other value is none the library stored (a damaged or forged header;
  // found by a tester: readers passed over intact records of the first lap behind it).
  if (file.info().paging == PagingStrategy::none) return std::max(head, file.geometry().capacity);
  const std::uint64_t preparing = load_field(header.preparation.preparing_end, std::memory_order_acquire);
  return std::max(head, preparing);
}

std::uint64_t oldest_kept_position(const RingFile& file) noexcept {
  const std::uint64_t frontier = reclaimed_frontier(file);
  const std::uint64_t capacity = file.geometry().capacity;
  return frontier > capacity ? frontier - capacity : 0;
}

Pager::Pager(RingFile& file)
    : file_(file),
      strategy_(file.info().paging),
      base_(paging_sizes(file, choose_budget(file, RingRegistration::open_rings()).budget_bytes)) {
  redrop_bytes_ = std::min(file.geometry().capacity / 4, 4 * base_.chunk_bytes + kLargestFolioBytes);
}

PagingSizes Pager::sizes() const noexcept {
  // Relaxed: advisory, see publish_budget; paging_sizes raises anything below the minimum.
  const std::uint64_t published =
      load_field(file_.header().paging_budget.resident_budget_bytes, std::memory_order_relaxed);
  return published == 0 ? base_ : paging_sizes(file_, std::min(published, std::uint64_t{1} << 60));
}

std::uint64_t Pager::resident_bound_bytes() const noexcept {
  // Plus the trailing stretch release_behind drops a second time: pages still under write-back
  // when their chunk was dropped stay cached until that second pass, and under load (write-back
  // slow, the housekeeping thread late to run) they are there to be counted.
  return sizes().resident_budget_bytes + kLargestFolioBytes + format::kHeaderSegmentBytes + redrop_bytes_;
}

std::uint64_t Pager::writable_end() const noexcept {
  if (strategy_ == PagingStrategy::none) return std::numeric_limits<std::uint64_t>::max();
  const auto& header = file_.header();
  // seq_cst: a producer loads the frontiers after registering as a sleeper (sleep_for_space),
  // the other half of the Dekker pairing with the preparer's and releaser's seq_cst stores.
  const std::uint64_t prepared = load_field(header.prepared_position.value, std::memory_order_seq_cst);
  const std::uint64_t released = load_field(header.released_position.value, std::memory_order_seq_cst);
  return std::min(prepared, released + sizes().resident_budget_bytes);
}

PrepareOutcome Pager::prepare_until(std::uint64_t target) noexcept {
  if (strategy_ == PagingStrategy::none) return PrepareOutcome::ready;  // no frontier kept
  for (;;) {
    // Acquire: pairs with the seq_cst store that moves the frontier in prepare_range.
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
  // Acquire: pairs with the last holder's release of the lock (its frontier stores happen
  // before), or, after a holder died, with its own stores as far as they went.
  const std::uint64_t prepared = prepared_line.load(std::memory_order_acquire);
  std::uint64_t end = preparing_line.load(std::memory_order_acquire);
  PrepareOutcome outcome = PrepareOutcome::ready;
  // end > prepared: a dead holder's range, already checked by it; redo it as it was. Unless it
  // cannot be one: a range is whole pages and less than a lap (the file may be damaged or forged
  // since it was opened, and invalidating up to an absurd end would take billions of laps), and
  // stops a lap short of every claim still being filled (the bound only moves on once a range is
  // chosen within it; past it, the range would zero a claim whose commit then publishes zeros).
  const bool dead_holders_range = end > prepared && end - prepared <= file_.geometry().capacity &&
                                  end % format::kPageBytes == 0 && end <= claims_bound();
  if (!dead_holders_range) {
    // Withdrawn, should it be what no holder chose: consumers take anything below a range
    // announced a lap on for overwritten.
    if (end > prepared) preparing_line.store(prepared, std::memory_order_seq_cst);
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
    // seq_cst: release pairs with producers' acquire load before they reserve into the range;
    // the total order with the sleeper count in wake_sleepers below is the Dekker pairing with a
    // producer that sleeps until the frontier moves (see wakeups.hpp).
    prepared_line.store(end, std::memory_order_seq_cst);
  }
  // Release: the lock; pairs with the next holder's seq_cst CAS, which sees our frontier stores.
  owner.store(0, std::memory_order_release);
  if (outcome == PrepareOutcome::ready) wake_sleepers(header.space_wait);
  return outcome;
}

// Whole chunks up to the target, in one step (one lock, one limit check, one syscall), but no
// further than the resident budget past the release frontier, nor a lap past a claim being
// filled, nor (block policy) past what every holding consumer has read.
std::uint64_t Pager::choose_range_end(std::uint64_t prepared, std::uint64_t target,
                                      PrepareOutcome* outcome) noexcept {
  const PagingSizes budget = sizes();
  const std::uint64_t chunk = budget.chunk_bytes;
  std::uint64_t end = std::max(round_down(prepared, chunk) + chunk, round_down(target + chunk - 1, chunk));
  auto& header = file_.header();
  // Acquire: pairs with the releaser's CAS of the frontier (release_behind); only sizes the range.
  const std::uint64_t released = atomic_field(header.released_position.value).load(std::memory_order_acquire);
  // What producers write between the release frontier and the head is what the ring holds in
  // memory: when write-back and release fall behind, producers wait (writable_end). Preparation
  // runs at most the prepared stretch further (the budget counts it too).
  end = std::min(end, round_down(released + budget.resident_budget_bytes + budget.ahead_bytes, kPage));

  if (end <= prepared) {
    *outcome = PrepareOutcome::throttled;
    return prepared;
  }
  // Nor past a live producer's claim plus a lap (whole pages below it): the head stops there,
  // but preparation runs ahead of the head, and would invalidate the bytes of a claim still being
  // filled, which its commit would then publish as zeros (found in review).
  end = std::min(end, claims_bound());
  if (end <= prepared) {
    *outcome = PrepareOutcome::blocked;
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

std::uint64_t Pager::claims_bound() const noexcept {
  // Reading ahead too (prefetch_only), though it destroys nothing: its frontier is where consumers
  // count the bytes a lap behind as overwritten (reclaimed_frontier), and where a producer's late
  // commit takes its claim for passed (claim_overtaken). Unbounded, it went past a young claim,
  // whose commit failed and whose record consumers counted lost (found in review).
  return round_down(live_claims_limit(file_), kPage);
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
        if (zero_fill_) write_zeros(fd, file_offset, file_length);
        break;
      case PagingStrategy::punch_hole:
        // Reserve the blocks again at once: a hole could meet ENOSPC at write-back.
        if (::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, file_offset, file_length) == 0) {
          ::fallocate(fd, FALLOC_FL_KEEP_SIZE, file_offset, file_length);
        }
        if (zero_fill_) write_zeros(fd, file_offset, file_length);
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
  // Acquire: pairs with the producers' head CAS; only says how far to write back.
  const std::uint64_t head = atomic_field(file_.header().head_position.value).load(std::memory_order_acquire);
  // Leave the chunk under the producers alone: pages written back now would be dirtied again.
  const std::uint64_t until = round_down(head, base_.chunk_bytes);
  if (until <= written_back_until_) return;
  const std::uint64_t from = std::max(written_back_until_, until > file_.geometry().capacity ? until - file_.geometry().capacity : 0);
  for_each_file_range(file_, from, until, [&](std::uint64_t offset, std::uint64_t length) {
    ::sync_file_range(file_.fd(), static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE);
  });
  written_back_until_ = until;
}

// A chunk boundary a little behind the slowest consumer whose next bytes are kept in memory: every
// follower, and every other consumer at most the resident lag behind the head. Anyone else is
// replaying and finds its next bytes on disk; their pages are spilled oldest first, so that what
// the ring holds in memory stays within the budget however far they fall behind.
//
// A follower is never passed while the hold window fits in the resident lag (the default): then it
// lags beyond the resident lag only when the budget shrank under it (more rings opened on the
// machine, a lower memory limit), and producers are held at its cursor plus the new, narrower
// window until it has read its way back into it. Dropping its unread pages instead would make it
// read them back from disk, slower than it consumed them, and never catch up. A hold window wider
// than memory (`ring`) asks for the opposite: what does not fit spills, and is read back.
std::uint64_t Pager::release_target(std::uint64_t head, const PagingSizes& budget) const noexcept {
  const std::uint64_t kept_from = head > budget.resident_lag_bytes ? head - budget.resident_lag_bytes : 0;
  const bool followers_hold =
      file_.policy() == WriterPolicy::block && budget.hold_window_bytes <= budget.resident_lag_bytes;
  std::uint64_t slowest = head;
  for (const auto& slot : file_.header().consumers) {
    if (state_of(slot) != format::ConsumerState::active) continue;
    // Acquire: pairs with the consumer's seq_cst fetch_or that sets the flag; only steers memory.
    const std::uint32_t flags = load_field(slot.flags, std::memory_order_acquire);
    const bool follows = followers_hold && is_following(flags);
    // Acquire: pairs with the consumer's seq_cst cursor store; only steers memory use.
    const std::uint64_t cursor = load_field(slot.cursor, std::memory_order_acquire);
    if (cursor <= head) slowest = std::min(slowest, follows ? cursor : std::max(cursor, kept_from));
  }
  if (slowest < budget.keep_behind_bytes) return 0;
  return round_down(slowest - budget.keep_behind_bytes, budget.chunk_bytes);
}

bool Pager::release_behind() noexcept {
  if (strategy_ == PagingStrategy::none) return false;
  auto& header = file_.header();
  // Acquire: pairs with the producers' head CAS; the frontier's own CAS below orders the rest.
  const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_acquire);
  const std::uint64_t capacity = file_.geometry().capacity;
  const PagingSizes budget = sizes();
  const std::uint64_t target = release_target(head, budget);
  auto released = atomic_field(header.released_position.value);
  // Acquire: pairs with the last CAS of the frontier, by this process or another.
  std::uint64_t from = released.load(std::memory_order_acquire);
  const std::uint64_t first = from;
  while (from < target) {
    // Nothing older than a lap behind the target is still in the page cache under this name.
    const std::uint64_t start = std::max(from, target > capacity ? target - capacity : 0);
    const std::uint64_t end = std::min(target, round_down(start, budget.chunk_bytes) + budget.chunk_bytes);
    // Exactly once per chunk: whoever moves the frontier drops what it passed. One chunk at a
    // time, dropped before the next is taken, so that the frontier (which paces preparation
    // ahead) is never more than a chunk ahead of what has really left memory. seq_cst: acquire
    // and release for the frontier; the total order with the sleeper count below is the Dekker
    // pairing with producers waiting for room in the budget (wakeups.hpp).
    if (!released.compare_exchange_weak(from, end, std::memory_order_seq_cst)) continue;
    drop_range(start, end);
    from = end;
  }
  if (from == first) return false;
  // Pages still under write-back when their chunk was dropped stay in memory (sync_file_range
  // does not wait for pages another writer holds): go over a trailing stretch once more.
  const std::uint64_t retry_from = first > redrop_bytes_ ? first - redrop_bytes_ : 0;
  drop_range(std::max(retry_from, released_again_until_), first);
  released_again_until_ = first;
  wake_sleepers(header.space_wait);
  return true;
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
