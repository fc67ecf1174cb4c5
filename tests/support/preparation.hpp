// For tests of the paging engine's preparation ahead of the head: a ring whose preparation zeroes
// what it invalidates, and the preparation lock held by a live process that never lets it go.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>

#include "atomics.hpp"
#include "process_identity.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "support/eventually.hpp"
#include "support/rings.hpp"

namespace ringfile::test {

// A ring whose preparation makes what it passes read as zeros: fallocate(ZERO_RANGE) where the
// temporary directory's file system has it, PUNCH_HOLE where not (tmpfs); nullopt, with a
// message that the test is skipped, where it has neither.
inline std::optional<Ring> zeroing_ring(const std::filesystem::path& path, std::uint64_t capacity,
                                        WriterPolicy policy, std::uint32_t max_record_bytes,
                                        std::chrono::milliseconds unblock_timeout) {
  for (const PagingStrategy paging : {PagingStrategy::zero_range, PagingStrategy::punch_hole}) {
    CreateOptions options = small_ring(capacity, policy, max_record_bytes);
    options.paging = paging;
    options.unblock_timeout = unblock_timeout;
    std::optional<Ring> ring(Ring::create(path, options));
    if (ring->info().paging == paging) return ring;
    ring.reset();
    std::filesystem::remove(path);
  }
  MESSAGE("skipped: the file system of the temporary directory can neither zero a range nor punch a hole");
  return std::nullopt;
}

// Where the preparation stops for a claim at `claim_position` that a live producer is still
// filling: a lap on, rounded down to a page (Pager's claims bound). The head stops at the lap.
inline std::uint64_t page_below_claim_limit(const Ring& ring, std::uint64_t claim_position) {
  return (claim_position + ring.info().capacity_bytes) / format::kPageBytes * format::kPageBytes;
}

// Takes the preparation lock in the name `owner_word` (a pid in the high half, a start time in the
// low), once a preparer of this process (a housekeeper) has let it go.
inline void take_preparation_lock(const Ring& ring, std::uint64_t owner_word) {
  auto owner = detail::atomic_field(detail::file_of(ring).header().preparation.owner_word);
  REQUIRE(eventually([&] {
    std::uint64_t free = 0;
    return owner.compare_exchange_weak(free, owner_word);
  }));
}

// The preparation lock taken in the name of init, a live process, for as long as this lives (or
// until release()): the prepared frontier stands still, as behind a preparer that never finishes.
class PreparationHeldByInit {
 public:
  explicit PreparationHeldByInit(const Ring& ring)
      : owner_(detail::atomic_field(detail::file_of(ring).header().preparation.owner_word)) {
    REQUIRE(detail::process_start_time(1) != 0);
    take_preparation_lock(ring, std::uint64_t{1} << 32 | (detail::process_start_time(1) & 0xFFFFFFFFu));
  }
  ~PreparationHeldByInit() { release(); }
  PreparationHeldByInit(const PreparationHeldByInit&) = delete;
  PreparationHeldByInit& operator=(const PreparationHeldByInit&) = delete;

  void release() {
    if (held_) owner_.store(0);
    held_ = false;
  }

 private:
  std::atomic_ref<std::uint64_t> owner_;
  bool held_ = true;
};

}  // namespace ringfile::test
