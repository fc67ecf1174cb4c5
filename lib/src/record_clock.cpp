#include "record_clock.hpp"

#include <cstdio>
#include <new>
#include <string>
#include <string_view>

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

// The first line of `path` that starts with `prefix`, without its newline; empty if none.
std::string first_line_starting(const char* path, std::string_view prefix) {
  std::FILE* file = std::fopen(path, "re");
  if (file == nullptr) return {};
  std::string found;
  char line[4096];
  // A line longer than the buffer comes in pieces; only a piece that starts a line is matched.
  bool at_line_start = true;
  while (std::fgets(line, sizeof line, file) != nullptr) {
    const std::string_view piece(line);
    const bool ends_line = !piece.empty() && piece.back() == '\n';
    if (at_line_start && piece.starts_with(prefix)) {
      found = piece.substr(0, ends_line ? piece.size() - 1 : piece.size());
      // The rest of a long line (the flags of a CPU with many features).
      while (!ends_line && std::fgets(line, sizeof line, file) != nullptr) {
        const std::string_view rest(line);
        const bool rest_ends = !rest.empty() && rest.back() == '\n';
        found += rest.substr(0, rest_ends ? rest.size() - 1 : rest.size());
        if (rest_ends) break;
      }
      break;
    }
    at_line_start = ends_line;
  }
  std::fclose(file);
  return found;
}

bool has_word(std::string_view text, std::string_view word) noexcept {
  for (std::size_t at = text.find(word); at != std::string_view::npos; at = text.find(word, at + 1)) {
    const bool starts = at == 0 || text[at - 1] == ' ' || text[at - 1] == '\t';
    const std::size_t after = at + word.size();
    const bool ends = after == text.size() || text[after] == ' ' || text[after] == '\t';
    if (starts && ends) return true;
  }
  return false;
}

bool kernel_keeps_time_with_tsc() noexcept {
  static const bool uses = [] {
    try {
      const std::string source =
          first_line_starting("/sys/devices/system/clocksource/clocksource0/current_clocksource", "");
      if (source == "tsc") return true;
      if (source != "kvm-clock") return false;
      // The first CPU's flags stand for all: the kernel shows the features every CPU has.
      const std::string flags = first_line_starting("/proc/cpuinfo", "flags");
      return has_word(flags, "constant_tsc") && has_word(flags, "nonstop_tsc");
    } catch (const std::bad_alloc&) {
      return false;  // the clock, then
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
