// Clocks used by the ring. CLOCK_REALTIME stamps records and heartbeats (comparable across
// processes and reboots); CLOCK_MONOTONIC measures timeouts inside a process.
#pragma once

#include <cstdint>
#include <ctime>

namespace ringfile::detail {

inline std::uint64_t clock_ns(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(now.tv_nsec);
}
inline std::uint64_t realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME); }
// Resolution of a few milliseconds, but nearly free: good enough for heartbeats.
inline std::uint64_t coarse_realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME_COARSE); }
inline std::uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }

}  // namespace ringfile::detail
