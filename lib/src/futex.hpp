// Shared (not FUTEX_PRIVATE) futex calls on words inside the mapped ring file, so that waiters in
// one process are woken by another.
#pragma once

#include <chrono>
#include <cstdint>

namespace ringfile::detail {

// Sleeps while *word == expected, at most `timeout`. Returns on wake, timeout, signal or change.
void futex_wait(std::uint32_t* word, std::uint32_t expected, std::chrono::nanoseconds timeout) noexcept;
// Wakes every waiter on `word`.
void futex_wake_all(std::uint32_t* word) noexcept;

}  // namespace ringfile::detail
