// How far apart a spinning consumer looks at the commit word it waits for.
//
// That word lies on the line the producer is about to write: each look takes the line back to the
// consumer's core, and a producer that is filling the frame then fetches it again before its
// commit can complete. A look every pause (19 ns on one CPU measured here) took the line back
// several times a record; looks about kLookIntervalNs apart took a 64-byte busy-spin ping-pong
// hop from 0.315 to 0.293 us with claim/commit and from 0.366 to 0.328 with write() (medians of
// four rounds, bench/README.md, "Spinning looks paced"). A pause lasts 10 to 140 cycles depending
// on the CPU, so the pauses a look waits are counted from a measurement, not fixed.
#pragma once

#include <cstdint>

namespace ringfile::detail {

inline constexpr std::uint64_t kLookIntervalNs = 100;
// Bounds on pauses_per_look(): a CPU whose pause is slow (or a measurement a preemption made
// long) still looks after one, and a pause too short to time (or none, off x86) is not
// repeated more than this many times a look.
inline constexpr std::uint32_t kMostPausesPerLook = 16;

// How many cpu_relax() calls last about kLookIntervalNs on this CPU, 1 to kMostPausesPerLook:
// measured at the first call (a few microseconds), and kept for the process.
std::uint32_t pauses_per_look() noexcept;

// For tests: the count pauses_per_look() derives from a pause lasting `pause_ns` (0: unknown).
std::uint32_t pauses_per_look_for(double pause_ns) noexcept;

}  // namespace ringfile::detail
