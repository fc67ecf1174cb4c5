// A count that one process advances and another may sleep on until it reaches a value, in memory
// shared across fork (MAP_SHARED | MAP_ANONYMOUS). The baselines' writers wait on their reader's
// count of records consumed, and their readers on the writer's count of records published, the
// way ringfile's producers and consumers wait on the futex words in the ring's header: so that
// waiting costs the baselines no more CPU than it costs ringfile.
//
// The protocol (Dekker, every step seq_cst): the advancer stores the value, then loads
// `sleepers`; a waiter increments `sleepers`, then loads the value, and sleeps only if it is
// still short, on `wake_generation` as it read it before incrementing. Either the advancer sees
// the waiter and bumps the generation (the futex wait then returns at once or is woken), or the
// waiter sees the new value and does not sleep.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ringfile::bench::wrap {

class SharedCounter {
 public:
  // @pre one advancing process per counter.
  void advance_to(std::uint64_t value) noexcept;
  // Wakes every sleeper without changing the value (the advancer finished or gave up).
  void wake_all() noexcept;
  std::uint64_t load() const noexcept {
    // Acquire: pairs with the seq_cst store in advance_to; what was published before the count
    // (a record in the page cache, a record read) is visible once the count includes it.
    return value_.load(std::memory_order_acquire);
  }
  // Sleeps until the value is at least `target` or `timeout` passes (or a wake_all); returns the
  // value then. Never spins.
  std::uint64_t wait_for_at_least(std::uint64_t target, std::chrono::nanoseconds timeout) noexcept;

 private:
  std::atomic<std::uint64_t> value_{0};
  std::atomic<std::uint32_t> wake_generation_{0};
  std::atomic<std::uint32_t> sleepers_{0};
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
                  std::atomic<std::uint32_t>::is_always_lock_free,
              "a lock-based atomic does not work across processes");

}  // namespace ringfile::bench::wrap
