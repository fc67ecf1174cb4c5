// Waiting in a test for a condition that another thread or process brings about.
#pragma once

#include <chrono>
#include <thread>

namespace ringfile::test {

// Looks at `condition` (which may also do work towards it, such as preparing the next range)
// until it holds, a little apart so that other processes get a CPU; true then. False only after
// `hang_guard`, far beyond what any run needs however loaded the machine: a guard against a fault
// that would otherwise leave the test spinning until ctest's timeout, not a timing. Use as
// REQUIRE(eventually(...)).
template <typename Condition>
bool eventually(Condition&& condition, std::chrono::seconds hang_guard = std::chrono::seconds(120)) {
  const auto give_up = std::chrono::steady_clock::now() + hang_guard;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return true;
}

}  // namespace ringfile::test
