#include "record_clock.hpp"

#include <exception>
#include <fstream>
#include <sstream>
#include <string>

namespace ringfile::detail {

namespace {

// The rate is measured over at least this long before the counter is used...
constexpr std::uint64_t kCalibrationNs = 10'000'000;
// ...and the conversion re-anchored on a fresh clock_gettime this often.
constexpr std::uint64_t kReanchorNs = 10'000'000;
// A prediction further than this from the clock at a re-anchor means the clock was stepped:
// the rate is measured afresh.
constexpr std::uint64_t kLargestDriftNs = 1'000'000;
// A clock reading whose two counter reads around it are further apart than this (a few
// microseconds) was interrupted: its time is used, but no anchor is taken from it.
constexpr std::uint64_t kLargestPairTicks = 20'000;

// Whether the first line of /proc/cpuinfo that lists a CPU's flags has both of the invariant
// TSC's: the kernel lists for every CPU the features all of them have.
bool cpu_counter_is_invariant() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (!line.starts_with("flags")) continue;
    std::istringstream words(line);
    bool constant = false, nonstop = false;
    for (std::string word; words >> word;) {
      constant = constant || word == "constant_tsc";
      nonstop = nonstop || word == "nonstop_tsc";
    }
    return constant && nonstop;
  }
  return false;
}

bool kernel_keeps_time_with_tsc() noexcept {
  static const bool uses = [] {
    try {
      std::ifstream source_file("/sys/devices/system/clocksource/clocksource0/current_clocksource");
      std::string source;
      if (!std::getline(source_file, source)) return false;
      return source == "tsc" || (source == "kvm-clock" && cpu_counter_is_invariant());
    } catch (const std::exception&) {
      return false;  // no memory for the lines: the clock, then
    }
  }();
  return uses;
}

std::uint64_t distance(std::uint64_t a, std::uint64_t b) noexcept { return a > b ? a - b : b - a; }

}  // namespace

RecordClock::RecordClock() noexcept {
#if defined(__x86_64__)
  use_counter_ = kernel_keeps_time_with_tsc();
#endif
}

std::uint64_t RecordClock::reanchor() noexcept {
#if defined(__x86_64__)
  if (use_counter_) {
    const std::uint64_t before = __rdtsc();
    const std::uint64_t ns = realtime_ns();
    const std::uint64_t after = __rdtsc();
    if (after - before > kLargestPairTicks) return keep_order(ns);
    const std::uint64_t ticks = before + (after - before) / 2;
    // Wide: a producer idle for long re-anchors after many more ticks than now_ns() converts.
    const auto predicted = static_cast<std::uint64_t>(
        anchor_ns_ + ((static_cast<unsigned __int128>(ticks - anchor_ticks_) * ns_per_tick_q32_) >> 32));
    const bool stepped = ns_per_tick_q32_ != 0 && distance(predicted, ns) > kLargestDriftNs;
    if (first_ns_ == 0 || ns <= first_ns_ || ticks <= first_ticks_ || stepped) {
      first_ticks_ = anchor_ticks_ = ticks;
      first_ns_ = anchor_ns_ = ns;
      ns_per_tick_q32_ = 0;
      return keep_order(ns);
    }
    anchor_ticks_ = ticks;
    anchor_ns_ = ns;
    if (ns - first_ns_ >= kCalibrationNs) {
      // Measured from the first pair: the longer the span, the smaller the error of its ends.
      ns_per_tick_q32_ = static_cast<std::uint64_t>((static_cast<unsigned __int128>(ns - first_ns_) << 32) /
                                                    (ticks - first_ticks_));
      // now_ns multiplies at most this many ticks by the rate: about kReanchorNs << 32, far
      // below 2^64, so the product needs no wider type.
      reanchor_ticks_ = ns_per_tick_q32_ == 0 ? 0 : (kReanchorNs << 32) / ns_per_tick_q32_;
    }
    return keep_order(ns);
  }
#endif
  return keep_order(realtime_ns());
}

}  // namespace ringfile::detail
