// The paging engine: keeps a ring larger than RAM fast after it wraps.
//
// Ahead of the head, the old lap's bytes are invalidated (zero-range by default) before any
// producer writes there, so a write never faults the old page in from disk. Behind the consumers
// that follow the head, written pages are written back early and then dropped from the page
// cache, so the resident set stays near "views ahead + follower lag + views behind", whatever
// the ring's size. Both frontiers live in the header and advance by CAS one chunk at a time, so
// each region is prepared and released exactly once however many producer processes share the
// ring. See ../shared/docs/wraparound.md for the measurements behind these choices.
#pragma once

#include <cstdint>

#include "ring_file.hpp"
#include "ringfile/options.hpp"
#include "slot_tables.hpp"

namespace ringfile::detail {

// The strategy for a new ring in the file open as `fd`: the requested one if the filesystem
// supports it, else the best it does support (zero_range, then punch_hole, then prefetch_only).
// automatic chooses none on tmpfs and for rings of at most 512 MiB, which stay resident anyway.
PagingStrategy resolve_paging_strategy(int fd, std::uint64_t capacity, PagingStrategy requested);

format::PagingStrategyCode to_code(PagingStrategy strategy) noexcept;
PagingStrategy from_code(format::PagingStrategyCode code) noexcept;

enum class PrepareOutcome {
  ready,      // prepared_position has reached the target
  blocked,    // block policy: holding consumers have not yet read the old bytes there
  busy,       // another live process or thread is preparing right now
  throttled,  // write-back and release behind have not kept up: the resident budget is used
};

class Pager {
 public:
  explicit Pager(RingFile& file);

  PagingStrategy strategy() const noexcept { return strategy_; }
  std::uint64_t chunk_bytes() const noexcept { return chunk_bytes_; }
  // How far ahead of the head the housekeeper keeps the ring prepared.
  std::uint64_t ahead_bytes() const noexcept { return ahead_bytes_; }
  // Preparation never runs further than this ahead of the release frontier, so the ring's pages
  // in memory stay within it however far the disk falls behind: a view and a chunk ahead, as
  // far as the slowest follower lags (at most the follow window, or under block the sticky
  // window), a view and a chunk behind.
  std::uint64_t resident_budget_bytes() const noexcept { return resident_budget_bytes_; }
  // What the ring file may hold in the page cache: the budget, plus the largest page-cache folio
  // (pages are dropped in whole folios), plus the header.
  std::uint64_t resident_bound_bytes() const noexcept;

  // Prepares whole chunks until prepared_position >= target.
  PrepareOutcome prepare_until(std::uint64_t target) noexcept;
  // Starts write-back of what producers have written, up to a little behind the head.
  void start_writeback() noexcept;
  // Drops pages every following consumer has passed (and that are written back).
  void release_behind() noexcept;

 private:
  PrepareOutcome prepare_range(std::uint64_t target) noexcept;
  std::uint64_t choose_range_end(std::uint64_t prepared, std::uint64_t target, PrepareOutcome* outcome) noexcept;
  void invalidate(std::uint64_t start, std::uint64_t end) noexcept;
  void drop_range(std::uint64_t start, std::uint64_t end) noexcept;
  std::uint64_t follower_position(std::uint64_t head) noexcept;

  RingFile& file_;
  PagingStrategy strategy_;
  std::uint64_t chunk_bytes_;
  std::uint64_t ahead_bytes_;
  std::uint64_t follow_window_bytes_;
  std::uint64_t sticky_window_bytes_;
  std::uint64_t most_lag_bytes_;  // the sticky window under block, the follow window otherwise
  std::uint64_t keep_behind_bytes_;
  std::uint64_t resident_budget_bytes_;
  std::uint64_t redrop_bytes_;
  std::uint64_t written_back_until_ = 0;    // this process's progress; repeats are harmless
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
std::uint64_t reclaimed_frontier(const format::FileHeader& header) noexcept;

}  // namespace ringfile::detail
