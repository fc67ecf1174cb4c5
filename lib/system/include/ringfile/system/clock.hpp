// The clocks of the project. CLOCK_MONOTONIC is shared by every process of the machine, so a
// stamp taken by one process can be subtracted from a reading in another (the benchmarks do);
// the library also reads CLOCK_REALTIME through clock_ns.
#pragma once

#include <cstdint>
#include <ctime>

namespace ringfile::system {

inline std::uint64_t clock_ns(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(now.tv_nsec);
}

inline std::uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }

// CLOCK_MONOTONIC at the resolution of the scheduler's tick (a few milliseconds), read from the
// vDSO without the time counter: for deadlines and schedules that are milliseconds apart, on
// paths that run once per record, where a precise reading costs as much as the record.
inline std::uint64_t coarse_monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC_COARSE); }

// Seconds from `start_ns` to `end_ns`; 0 when the end is not after the start.
inline double seconds_between(std::uint64_t start_ns, std::uint64_t end_ns) noexcept {
  return end_ns > start_ns ? static_cast<double>(end_ns - start_ns) / 1e9 : 0.0;
}

}  // namespace ringfile::system
