// One clock for every timestamp the benchmarks take: CLOCK_MONOTONIC is shared by all processes
// of the machine, so a stamp written by one process can be subtracted from a reading in another.
#pragma once

#include <cstdint>
#include <ctime>

namespace ringfile::bench {

inline std::uint64_t monotonic_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

inline double seconds_between(std::uint64_t start_ns, std::uint64_t end_ns) noexcept {
  return end_ns > start_ns ? static_cast<double>(end_ns - start_ns) / 1e9 : 0.0;
}

}  // namespace ringfile::bench
