// Clocks used by the ring. CLOCK_REALTIME stamps records and heartbeats (comparable across
// processes and reboots); CLOCK_MONOTONIC measures timeouts inside a process.
#pragma once

#include <cstdint>
#include <ctime>

#include "ringfile/system/clock.hpp"

namespace ringfile::detail {

using system::clock_ns;
using system::coarse_monotonic_ns;
using system::monotonic_ns;
inline std::uint64_t realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME); }
// Resolution of a few milliseconds, but nearly free: good enough for heartbeats and for the
// claim times that the unblock timeout (seconds) is measured from.
inline std::uint64_t coarse_realtime_ns() noexcept { return clock_ns(CLOCK_REALTIME_COARSE); }

}  // namespace ringfile::detail
