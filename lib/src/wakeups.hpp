// Waking sleepers on the two wait lines of the header. A waker makes the futex syscall only when
// the sleeper count says someone sleeps.
//
// The pairing (Dekker): a sleeper increments `sleepers` (seq_cst), loads the futex word, then
// re-checks its condition before futex_wait. A waker changes the condition with a seq_cst
// operation, then loads `sleepers` (seq_cst). In the single total order either the sleeper's
// re-check sees the change, or the waker sees the sleeper and bumps the futex word, which makes
// the sleeper's futex_wait return at once.
#pragma once

#include <atomic>

#include "atomics.hpp"
#include "futex.hpp"
#include "ringfile/format/file_header.hpp"

namespace ringfile::detail {

// How long a spin_then_sleep waiter spins before it sleeps on the futex: long enough to catch a
// hand-off between two busy processes without a syscall, short enough that a waiter woken at
// every commit of a slower peer costs it little CPU (about 50 us per wait, however costly each
// re-check is: a count of spins would not bound that).
inline constexpr std::uint64_t kSpinBeforeSleepNs = 50'000;
// The shortest spin of a waiter that adapts its spin (a consumer): one whose spins keep ending in
// sleep halves its next spin down to this, and doubles it again, up to kSpinBeforeSleepNs, when a
// spin catches the record. A consumer of 10,000 records/s spun 50 us for nothing at every wait:
// 4.8% of a CPU, against 1.6% adapting.
inline constexpr std::uint64_t kShortestSpinNs = 2'000;

inline void wake_sleepers(format::WaitLine& line) noexcept {
  // seq_cst, both: the waker's half of the pairing above.
  if (atomic_field(line.sleepers).load(std::memory_order_seq_cst) == 0) return;
  atomic_field(line.futex_word).fetch_add(1, std::memory_order_seq_cst);
  futex_wake_all(&line.futex_word);
}

}  // namespace ringfile::detail
