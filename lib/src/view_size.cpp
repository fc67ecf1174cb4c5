#include "view_size.hpp"

#include "memory_budget.hpp"
#include "ring_registry.hpp"

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kMinViewBytes = 64 * kKiB;
// The view of OpenOptions::view_bytes == 0, at most.
constexpr std::uint64_t kDefaultViewBytes = 8 * kMiB;
// Up to this size, the data area of a ring on tmpfs is mapped as one window. Its pages are in
// memory whatever the views do, so a window over all of them costs page tables only (0.2% of the
// bytes mapped), filled once in the first lap and kept; windows sliding over it fill and tear
// them down again every lap, which took a third of a 64-byte record's cost in each process
// (bench/README.md, "one window over a ring on tmpfs").
constexpr std::uint64_t kWholeAreaViewLimit = 256 * kMiB;

}  // namespace

// The engine's fixed parts come to about three and a half views (paging_sizes.cpp, budget_overhead:
// a view and a chunk ahead, a view kept behind the slowest follower, two chunks in flight); an
// eighth of the budget leaves more than half of it to the consumers' lag. With 8 MiB views, four
// rings of 64 MiB in a box of 96 MiB each had a budget below those parts alone: producers were
// paced 4 KiB ahead of their readers, who read back 7% of the bytes (bench/README.md).
std::uint64_t view_bytes_for_budget(std::uint64_t budget_bytes) noexcept {
  std::uint64_t view = kDefaultViewBytes;
  while (budget_bytes != 0 && view > kMinViewBytes && view > budget_bytes / 8) view /= 2;
  return view;
}

// A view at least as large as the data area maps all of it in one window; a frame larger than
// half a view gets a window of its own (data_view.cpp).
std::uint64_t choose_view_bytes(std::uint64_t requested, std::uint64_t capacity, bool memory_backed,
                                PagingStrategy paging, std::uint64_t budget_override) {
  if (requested == 0) {
    if (memory_backed && paging == PagingStrategy::none && capacity <= kWholeAreaViewLimit) {
      requested = capacity;
    } else if (paging != PagingStrategy::none) {
      // The budget this ring's producers start from: a share among the rings open now and this one.
      std::uint64_t budget = budget_override;
      if (budget == 0) {
        const OpenRings open = RingRegistration::open_rings();
        budget = share_memory(memory_for_rings(), open.paged + 1, open.whole_bytes).ring_bytes;
      }
      requested = view_bytes_for_budget(budget);
    } else {
      requested = kDefaultViewBytes;
    }
  }
  std::uint64_t view = kMinViewBytes;
  while (view < requested) view *= 2;
  return view;
}

}  // namespace ringfile::detail
