// Record timestamps: CLOCK_REALTIME at a third of clock_gettime's cost. Where the kernel keeps
// time with the TSC, a producer reads the counter and converts it with a rate it measured against
// CLOCK_REALTIME, re-anchoring to a fresh clock_gettime every 10 ms; elsewhere, and until the
// rate is known (10 ms after the first record), it reads the clock. clock_gettime orders its
// counter read with a fence and reads the kernel's time data under a sequence lock: 25-28 ns a
// call against 11 ns for the counter, and with 64-byte records the record's timestamp was a
// third of a producer's cost per record.
//
// The kernel keeps time with the TSC where its clocksource is "tsc" (it checked the counter is
// invariant and the same on every CPU), and in a KVM guest whose clocksource is "kvm-clock" on a
// CPU that reports an invariant TSC (constant_tsc and nonstop_tsc): kvm-clock is the TSC scaled by
// the host's figures. There the guest's CPUs' counters may differ by a little: up to 300 ticks
// (140 ns) between the two vCPUs of the machine bench/README.md describes, where clock_gettime
// is monotonic across them. Such a guest's kernel may have turned the TSC down as its clocksource
// for a difference that small (it does for a few cycles; this one was told to on its command
// line). A guest whose counters differ by more than a millisecond would see a producer's stamps
// off by that, and step back by it as the producer moves between CPUs, until the next re-anchor
// (10 ms) finds the drift and measures the rate afresh: not met here. rdtscp, which would tell the
// CPU, costs 22 ns here against 11 and its CPU number is not the CPU's in this guest. With
// clock_gettime for every stamp, a 64-byte claim and commit took 97 ns in one thread there, 48
// with the counter.
//
// Accuracy: the conversion drifts from CLOCK_REALTIME by the rate's error over at most 10 ms,
// which the anchors bound to microseconds; a step of the clock (settimeofday, an NTP step) shows
// at the next anchor. Within one producer, timestamps never go back by less than a millisecond
// (a re-anchor, or a move to a CPU whose counter is a little behind, that lands a little below
// the last stamp keeps the last stamp), so a seek by time finds the same order as before.
#pragma once

#include <cstdint>

#include "clock.hpp"

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace ringfile::detail {

// @pre one thread (a producer's).
class RecordClock {
 public:
  RecordClock() noexcept;

  // CLOCK_REALTIME now, in nanoseconds.
  std::uint64_t now_ns() noexcept {
#if defined(__x86_64__)
    if (ns_per_tick_q32_ != 0) {
      // Unsigned: a counter below the anchor (never, with a tsc clocksource) re-anchors too.
      const std::uint64_t elapsed = __rdtsc() - anchor_ticks_;
      if (elapsed < reanchor_ticks_) {
        return keep_order(anchor_ns_ + ((elapsed * ns_per_tick_q32_) >> 32));  // no overflow: see reanchor()
      }
    }
#endif
    return reanchor();
  }

  // Whether now_ns() reads the counter now (for tests).
  bool counting() const noexcept { return ns_per_tick_q32_ != 0; }

 private:
  // Reads the clock (the caller's timestamp) and, where the counter is used, re-anchors on it.
  std::uint64_t reanchor() noexcept;

  std::uint64_t keep_order(std::uint64_t ns) noexcept {
    // A stamp a little below the last one comes of a re-anchor, not of the clock: keep the last.
    constexpr std::uint64_t kLargestKeptStepNs = 1'000'000;
    if (ns < last_ns_ && last_ns_ - ns < kLargestKeptStepNs) return last_ns_;
    last_ns_ = ns;
    return ns;
  }

  bool use_counter_ = false;             // the kernel's clocksource is the TSC
  std::uint64_t first_ticks_ = 0, first_ns_ = 0;    // the first pair: the rate is measured from it
  std::uint64_t anchor_ticks_ = 0, anchor_ns_ = 0;  // the last pair
  std::uint64_t ns_per_tick_q32_ = 0;    // 0 until measured over kCalibrationNs
  std::uint64_t reanchor_ticks_ = 0;     // kReanchorNs in counter ticks
  std::uint64_t last_ns_ = 0;
};

}  // namespace ringfile::detail
