#include "wrap/shared_counter.hpp"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <ctime>

namespace ringfile::bench::wrap {

namespace {

// Shared (not FUTEX_PRIVATE): the sleeper and the waker are different processes.
void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                std::chrono::nanoseconds timeout) noexcept {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  timespec relative{};
  relative.tv_sec = static_cast<time_t>(seconds.count());
  relative.tv_nsec = static_cast<long>((timeout - seconds).count());
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, expected, &relative,
            nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr,
            nullptr, 0);
}

}  // namespace

void SharedCounter::advance_to(std::uint64_t value) noexcept {
  // seq_cst store, then seq_cst load of the sleepers: the advancer's half of the Dekker pair
  // (see the header).
  value_.store(value, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) != 0) wake_all();
}

void SharedCounter::wake_all() noexcept {
  // Release: a woken sleeper that sees the new generation also sees the value stored before.
  wake_generation_.fetch_add(1, std::memory_order_release);
  futex_wake_all(wake_generation_);
}

std::uint64_t SharedCounter::wait_for_at_least(std::uint64_t target,
                                               std::chrono::nanoseconds timeout) noexcept {
  std::uint64_t value = load();
  if (value >= target || timeout.count() <= 0) return value;
  // Acquire: pairs with the release bump in wake_all; read before registering as a sleeper, so
  // a bump after our registration makes the futex wait return at once.
  const std::uint32_t generation = wake_generation_.load(std::memory_order_acquire);
  // seq_cst increment, then seq_cst load of the value: the waiter's half of the Dekker pair.
  sleepers_.fetch_add(1, std::memory_order_seq_cst);
  value = value_.load(std::memory_order_seq_cst);
  if (value < target) futex_wait(wake_generation_, generation, timeout);
  // Relaxed: only a hint for the advancer, which errs towards waking.
  sleepers_.fetch_sub(1, std::memory_order_relaxed);
  return load();
}

}  // namespace ringfile::bench::wrap
