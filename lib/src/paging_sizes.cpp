// The paging engine's sizes: chunks, the stretch prepared ahead, what is kept behind the
// consumers, the resident budget each ring takes of the memory there is, and the hold window that
// follows from it (paging.hpp).
#include <algorithm>

#include "atomics.hpp"
#include "memory_budget.hpp"
#include "paging.hpp"

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kPage = format::kPageBytes;

std::uint64_t round_down(std::uint64_t value, std::uint64_t unit) noexcept { return value / unit * unit; }

// The sizes that do not depend on the budget.
// A follower caught up with the head must leave room for the largest reservation: a record of
// the maximum size plus the padding to the end of the lap before it, beyond what producers keep
// behind its cursor (kept_from_cursor). And a page more: preparation invalidates whole pages, so
// it stops at the last page boundary below the limit, and the reservation must end below that.
// Without it, a record of 4 KiB after 2 KiB of padding at a lap's end waited for a preparation
// that waited for the follower, which had read everything: twelve rings of 24 MiB in a 256 MiB
// box, their budgets down to the least, all stopped at the end of their first lap.
std::uint64_t least_hold_window(const RingFile& file) noexcept {
  return 2 * file.geometry().max_frame_stride + file.geometry().group_span + kPage;
}

PagingSizes fixed_sizes(const RingFile& file) noexcept {
  const std::uint64_t capacity = file.geometry().capacity;
  PagingSizes sizes;
  // Chunks of half a view on large rings; small rings get small chunks so that preparation
  // never eats more than a small fraction of their history.
  sizes.chunk_bytes = std::clamp(round_down(capacity / 16, kPage), kPage, file.view_step());
  // A full view ahead plus a chunk, so that a view mapped ahead never reaches unprepared bytes.
  sizes.ahead_bytes = std::min(file.view_bytes() + sizes.chunk_bytes,
                               std::max(round_down(capacity / 8, kPage), 2 * sizes.chunk_bytes));
  // A view starts at most half a view below the position it was mapped for, and mapped pages
  // cannot be dropped: keep that much, and the chunk being released, behind the slowest follower.
  sizes.keep_behind_bytes = file.view_step() + sizes.chunk_bytes;
  sizes.minimum_hold_bytes = least_hold_window(file);
  return sizes;
}

std::uint64_t configured_hold_window(const RingFile& file) noexcept {
  const std::uint64_t capacity = file.geometry().capacity;
  const std::uint64_t configured = file.info().hold_window_bytes;
  return std::clamp(configured == 0 ? capacity : configured, std::min(capacity, least_hold_window(file)), capacity);
}

}  // namespace

// Besides the consumers' lag, the budget holds what is kept behind the slowest of them, the chunk
// being released and the chunk being written, and the prepared stretch ahead of the head: read in
// ahead with prefetch_only, and zero-filled where producers fill records in place.
std::uint64_t budget_overhead(const PagingSizes& sizes) noexcept {
  return sizes.ahead_bytes + sizes.keep_behind_bytes + 2 * sizes.chunk_bytes;
}

std::uint64_t minimum_resident_budget(const RingFile& file) noexcept {
  const PagingSizes sizes = fixed_sizes(file);
  return budget_overhead(sizes) + sizes.minimum_hold_bytes;
}

PagingSizes paging_sizes(const RingFile& file, std::uint64_t budget_bytes) noexcept {
  PagingSizes sizes = fixed_sizes(file);
  sizes.resident_budget_bytes = std::max(budget_bytes, minimum_resident_budget(file));
  sizes.resident_lag_bytes = sizes.resident_budget_bytes - budget_overhead(sizes);
  const std::uint64_t capacity = file.geometry().capacity;
  sizes.hold_window_bytes = file.info().hold_window_bytes == 0 ? std::min(sizes.resident_lag_bytes, capacity)
                                                               : configured_hold_window(file);
  return sizes;
}

PublishedBudget choose_budget(const RingFile& file, const OpenRings& open_rings) noexcept {
  PublishedBudget chosen;
  chosen.rings_sharing = std::max<std::uint64_t>(open_rings.paged, 1);
  if (file.resident_budget_override() != 0) {
    chosen.budget_bytes = file.resident_budget_override();
    return chosen;
  }
  const MemoryBudget share = share_memory(memory_for_rings(), chosen.rings_sharing, open_rings.whole_bytes);
  chosen.memory_bytes = share.memory_bytes;
  chosen.whole_rings_bytes = share.whole_bytes;
  chosen.budget_bytes = share.ring_bytes;
  return chosen;
}

void publish_budget(RingFile& file, const PublishedBudget& budget) noexcept {
  const PagingSizes sizes = paging_sizes(file, budget.budget_bytes);
  auto& line = file.header().paging_budget;
  // Relaxed: the budget is advisory (memory and pacing, never correctness); readers bound what
  // they load. Stored only when it changes, so that an unchanged line stays clean in every cache.
  const auto publish = [](std::uint64_t& field, std::uint64_t value) {
    if (atomic_field(field).load(std::memory_order_relaxed) != value) {
      atomic_field(field).store(value, std::memory_order_relaxed);
    }
  };
  publish(line.resident_budget_bytes, sizes.resident_budget_bytes);
  // Relaxed, as the stores: the window in force is advisory; the limit it sets moves by CAS.
  const std::uint64_t previous_hold_window = atomic_field(line.hold_window_bytes).load(std::memory_order_relaxed);
  publish(line.hold_window_bytes, sizes.hold_window_bytes);
  // A narrower window takes effect now, not when producers next reach the limit.
  if (file.policy() == WriterPolicy::block &&
      (previous_hold_window == 0 || sizes.hold_window_bytes < previous_hold_window)) {
    tighten_producer_limit(file);
  }
  publish(line.memory_bytes, budget.memory_bytes);
  publish(line.rings_sharing, budget.rings_sharing);
  publish(line.whole_rings_bytes, budget.whole_rings_bytes);
}

std::uint64_t hold_window_in_force(const RingFile& file) noexcept {
  const std::uint64_t capacity = file.geometry().capacity;
  // Without the engine there is no budget to keep within: only a window chosen at creation paces.
  if (file.info().paging == PagingStrategy::none) return configured_hold_window(file);
  // Relaxed: advisory, see publish_budget.
  const std::uint64_t published =
      load_field(file.header().paging_budget.hold_window_bytes, std::memory_order_relaxed);
  if (published == 0) return configured_hold_window(file);
  return std::clamp(published, std::min(capacity, least_hold_window(file)), capacity);
}

}  // namespace ringfile::detail
