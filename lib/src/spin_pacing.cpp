#include "spin_pacing.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include "atomics.hpp"
#include "clock.hpp"

namespace ringfile::detail {

namespace {

// The shortest of a few timed runs: a run the scheduler interrupted reads long, never short.
double measure_pause_ns() noexcept {
  constexpr int kRuns = 5;
  constexpr int kPausesPerRun = 64;
  double shortest = 0;
  for (int run = 0; run < kRuns; ++run) {
    const std::uint64_t start = monotonic_ns();
    for (int pause = 0; pause < kPausesPerRun; ++pause) cpu_relax();
    const double each = static_cast<double>(monotonic_ns() - start) / kPausesPerRun;
    if (run == 0 || each < shortest) shortest = each;
  }
  return shortest;
}

}  // namespace

std::uint32_t pauses_per_look_for(double pause_ns) noexcept {
  if (!(pause_ns > 0)) return 1;  // no reading (or a clock too coarse to see one): a pause a look
  const double pauses = std::round(static_cast<double>(kLookIntervalNs) / pause_ns);
  return static_cast<std::uint32_t>(std::clamp(pauses, 1.0, static_cast<double>(kMostPausesPerLook)));
}

std::uint32_t pauses_per_look() noexcept {
  // Not a function-local static: a fork while another thread measured would leave the child's
  // guard taken for ever. Two threads measuring at once store about the same count.
  static std::atomic<std::uint32_t> measured{0};  // 0: not measured yet
  // Relaxed: the count alone is shared, and any thread's measurement will do.
  std::uint32_t pauses = measured.load(std::memory_order_relaxed);
  if (pauses == 0) {
    pauses = pauses_per_look_for(measure_pause_ns());
    measured.store(pauses, std::memory_order_relaxed);
  }
  return pauses;
}

}  // namespace ringfile::detail
