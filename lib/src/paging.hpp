// The paging engine: keeps a ring larger than RAM fast after it wraps, within a memory budget.
//
// Ahead of the head, the old lap's bytes are invalidated (zero-range by default) before any
// producer writes there, so a write never faults the old page in from disk. Behind the consumers,
// written pages are written back early and then dropped from the page cache. Both frontiers live
// in the header and advance by CAS one chunk at a time, so each region is prepared and released
// exactly once however many producer processes share the ring.
//
// What stays in memory is [release frontier, head): at most the resident budget
// (PagingBudgetLine), derived from the memory there is (memory_budget.hpp). Within it, the
// release frontier stays a little behind the slowest consumer that is at most the *resident lag*
// behind the head; a consumer further behind is replaying: its next bytes are no longer in
// memory, it reads them ahead of itself in large requests and drops them once read
// (replay_paging.hpp). Under the block policy a holding consumer within the hold window of the head
// paces producers there (slot_tables.cpp), and the hold window fits within the resident lag
// unless the ring was made with a larger one: such a follower never reads from disk.
//
// The design and the measurements behind it: docs/paging.md.
#pragma once

#include <cstdint>

#include "ring_file.hpp"
#include "ring_registry.hpp"
#include "ringfile/options.hpp"
#include "slot_tables.hpp"

namespace ringfile::detail {

// Whether the file open as `fd` is on tmpfs: its pages are memory, never read from a disk.
bool on_tmpfs(int fd) noexcept;

// The largest ring that automatic paging leaves resident whole, given the memory its processes
// may use (memory_for_rings(); 0 when unknown): 512 MiB, or a sixteenth of that memory if less.
std::uint64_t largest_ring_kept_whole(std::uint64_t memory_bytes) noexcept;

// The strategy for a new ring in the file open as `fd`: the requested one if the filesystem
// supports it, else the best it does support (zero_range, then punch_hole, then prefetch_only).
// automatic chooses none on tmpfs, and for a ring of at most largest_ring_kept_whole(memory_bytes)
// that fits within whole_rings_allowance(memory_bytes) (memory_budget.hpp) beside the rings kept
// whole open now, `whole_bytes_open` in all (RingRegistration::open_rings).
PagingStrategy resolve_paging_strategy(int fd, std::uint64_t capacity, PagingStrategy requested,
                                       std::uint64_t memory_bytes, std::uint64_t whole_bytes_open);

format::PagingStrategyCode to_code(PagingStrategy strategy) noexcept;
PagingStrategy from_code(format::PagingStrategyCode code) noexcept;

enum class PrepareOutcome {
  ready,      // prepared_position has reached the target
  blocked,    // a claim a lap behind is being filled, or (block policy) holding consumers have not
              // yet read the old bytes there
  busy,       // another live process or thread is preparing right now
  throttled,  // write-back and release behind have not kept up: the resident budget is used
};

// The sizes the engine works with for one ring and one budget.
struct PagingSizes {
  std::uint64_t chunk_bytes = 0;        // unit of preparation and release
  std::uint64_t ahead_bytes = 0;        // how far ahead of the head the ring is kept prepared
  std::uint64_t keep_behind_bytes = 0;  // kept behind the slowest follower (its view may map it)
  std::uint64_t minimum_hold_bytes = 0; // two maximum-size reservations and a page
  std::uint64_t resident_budget_bytes = 0;
  // How far behind the head a consumer may be and still find its next bytes in memory.
  std::uint64_t resident_lag_bytes = 0;
  std::uint64_t hold_window_bytes = 0;  // in force for this budget (block policy)
};

// The smallest budget the engine works with: a chunk and more on either side of the head.
std::uint64_t minimum_resident_budget(const RingFile& file) noexcept;
// The sizes for `budget_bytes` (raised to the minimum), with the ring's configured hold window.
PagingSizes paging_sizes(const RingFile& file, std::uint64_t budget_bytes) noexcept;

// The budget this process would publish now: OpenOptions::resident_budget_bytes, else its share
// of memory (memory_budget.hpp) among the rings open (ring_registry.hpp).
struct PublishedBudget {
  std::uint64_t budget_bytes = 0;
  std::uint64_t memory_bytes = 0;
  std::uint64_t rings_sharing = 1;
  std::uint64_t whole_rings_bytes = 0;
};
PublishedBudget choose_budget(const RingFile& file, const OpenRings& open_rings) noexcept;
// Writes it, and the hold window it gives, into the header (PagingBudgetLine).
void publish_budget(RingFile& file, const PublishedBudget& budget) noexcept;

// The hold window in force: as last published, else as configured (0 and the whole ring: the
// capacity). Bounded here: the header is untrusted input.
std::uint64_t hold_window_in_force(const RingFile& file) noexcept;

class Pager {
 public:
  explicit Pager(RingFile& file);

  PagingStrategy strategy() const noexcept { return strategy_; }
  std::uint64_t chunk_bytes() const noexcept { return base_.chunk_bytes; }
  // How far ahead of the head the housekeeper keeps the ring prepared.
  std::uint64_t ahead_bytes() const noexcept { return base_.ahead_bytes; }
  // The sizes for the budget in force (published in the header, else this process's own).
  PagingSizes sizes() const noexcept;
  // What the ring file may hold in the page cache: the budget, plus the largest page-cache folio
  // (pages are dropped in whole folios), plus the header, plus the stretch dropped a second time
  // (pages under write-back at the first drop stay until then).
  std::uint64_t resident_bound_bytes() const noexcept;

  // Where producers may reserve up to now: prepared, and within the resident budget past the
  // release frontier (preparation runs further ahead: invalidated bytes take no memory).
  // seq_cst loads: the re-check of a producer about to sleep (Dekker with the frontiers' seq_cst
  // stores, see wakeups.hpp); acquire for the preparer's store and the release CAS.
  std::uint64_t writable_end() const noexcept;
  // Producers of this process write records through the mapping (claim, fill, commit; or small
  // records through write()): then preparation also writes zeros over what it invalidates. A fill through the mapping takes a page fault per
  // page the page cache does not hold, and 4 KiB at a time (measured: 786,000 faults per 3 GiB,
  // 0.35 GB/s); after a write the cache holds the range in large folios, which a fault maps many
  // pages at a time (59,000 faults, 1.0-1.25 GB/s). The zeros are overwritten before write-back.
  void fill_prepared_with_zeros() noexcept { zero_fill_ = true; }
  // Prepares until prepared_position >= target: whole chunks, unless a bound stops it at a page.
  PrepareOutcome prepare_until(std::uint64_t target) noexcept;
  // Whether preparation up to `end` waits for a claim another producer is still filling a lap
  // behind (live_claims_limit), rather than for consumers, write-back or another preparer: what
  // a producer waiting there shows in its slot.
  bool held_by_claim(std::uint64_t end) const noexcept { return end > claims_bound(); }
  // Starts write-back of what producers have written, up to a little behind the head.
  void start_writeback() noexcept;
  // Drops pages every following consumer has passed (and that are written back), and pages
  // further than the resident lag behind the head whoever has not read them. Returns true when
  // the release frontier moved.
  bool release_behind() noexcept;

 private:
  PrepareOutcome prepare_range(std::uint64_t target) noexcept;
  std::uint64_t choose_range_end(std::uint64_t prepared, std::uint64_t target, PrepareOutcome* outcome) noexcept;
  // Where the live claims let preparation go: whole pages below the oldest one plus a lap.
  std::uint64_t claims_bound() const noexcept;
  void invalidate(std::uint64_t start, std::uint64_t end) noexcept;
  void drop_range(std::uint64_t start, std::uint64_t end) noexcept;
  std::uint64_t release_target(std::uint64_t head, const PagingSizes& sizes) const noexcept;

  RingFile& file_;
  PagingStrategy strategy_;
  PagingSizes base_;  // for this process's own budget, before any is published
  std::uint64_t redrop_bytes_;
  std::uint64_t written_back_until_ = 0;    // this process's progress; repeats are harmless
  bool zero_fill_ = false;                  // fill_prepared_with_zeros
  std::uint64_t released_again_until_ = 0;  // where this process's trailing re-drop got to
  ConsumerLivenessChecks liveness_checks_;
};

// Calls action(file_offset, length) for the file ranges holding positions [start, end), split
// where the range wraps past the end of the data area.
template <class Action>
void for_each_file_range(const RingFile& file, std::uint64_t start, std::uint64_t end, Action&& action) {
  const Geometry& geometry = file.geometry();
  while (start < end) {
    const std::uint64_t piece_end = std::min(end, geometry.lap_end(start));
    action(file.info().data_offset + geometry.offset_of(start), piece_end - start);
    start = piece_end;
  }
}

// Below this position every byte of the data area may have been overwritten or invalidated:
// a lap behind the furthest of the head and the preparation frontier.
std::uint64_t reclaimed_frontier(const RingFile& file) noexcept;
// The oldest position not reclaimed: reclaimed_frontier less a lap (0 in the first lap).
std::uint64_t oldest_kept_position(const RingFile& file) noexcept;

}  // namespace ringfile::detail
