// View sizes: the default view of a ring the paging engine works on shrinks with the ring's
// budget, so that the engine's fixed parts (about three and a half views) leave most of the
// budget to the consumers' lag; asked-for sizes are raised to a power of two.
#include <doctest/doctest.h>

#include <ringfile/ring.hpp>

#include "support/rings.hpp"
#include "support/temp_dir.hpp"
#include "view_size.hpp"

using namespace ringfile;
using namespace ringfile::test;
using detail::choose_view_bytes;
using detail::view_bytes_for_budget;

TEST_CASE("view size: the default view of a paged ring is at most an eighth of its budget, from 64 KiB to 8 MiB") {
  CHECK(view_bytes_for_budget(0) == 8 * kMiB);  // budget unknown
  CHECK(view_bytes_for_budget(12ull << 30) == 8 * kMiB);
  CHECK(view_bytes_for_budget(64 * kMiB) == 8 * kMiB);
  CHECK(view_bytes_for_budget(64 * kMiB - 1) == 4 * kMiB);
  CHECK(view_bytes_for_budget(12 * kMiB) == 1 * kMiB);
  CHECK(view_bytes_for_budget(100 * kKiB) == 64 * kKiB);
}

TEST_CASE("view size: what is asked for, the whole area on tmpfs without paging, else by the budget") {
  constexpr std::uint64_t capacity = 64 * kMiB;
  // Asked for: raised to a power of two, whatever the budget.
  CHECK(choose_view_bytes(3 * kMiB, capacity, false, PagingStrategy::zero_range, 1 * kMiB) == 4 * kMiB);
  CHECK(choose_view_bytes(1, capacity, false, PagingStrategy::none, 0) == 64 * kKiB);
  // The default: the whole data area on tmpfs without the engine, 8 MiB on a disk without it.
  CHECK(choose_view_bytes(0, capacity, true, PagingStrategy::none, 0) == capacity);
  CHECK(choose_view_bytes(0, capacity, false, PagingStrategy::none, 1 * kMiB) == 8 * kMiB);
  // With the engine, by the budget asked for.
  CHECK(choose_view_bytes(0, capacity, false, PagingStrategy::zero_range, 12 * kMiB) == 1 * kMiB);
  CHECK(choose_view_bytes(0, capacity, false, PagingStrategy::punch_hole, 1ull << 30) == 8 * kMiB);
}

TEST_CASE("view size: a ring opened with a small budget maps small views") {
  TempDir dir;
  CreateOptions options = small_ring(64 * kMiB);
  options.paging = PagingStrategy::punch_hole;
  Ring::create(dir / "ring", options);
  const Ring ring = Ring::open(dir / "ring", {.resident_budget_bytes = 12 * kMiB});
  if (ring.info().paging == PagingStrategy::none) {
    MESSAGE("skipped: no paging on " << dir.path());
    return;
  }
  CHECK(ring.info().view_bytes == 1 * kMiB);
}
