#include "pacer.hpp"

#include <algorithm>

#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::producer {
namespace {

constexpr double kForeverSeconds = 1e9;

}  // namespace

Pacer::Pacer(std::optional<programs::Rate> rate) : rate_(rate), start_(std::chrono::steady_clock::now()) {}

bool Pacer::wait_turn(std::uint64_t records, std::uint64_t bytes) {
  if (!rate_) return true;
  const double done = static_cast<double>(rate_->in_bytes ? bytes : records);
  // A rate of a record a century would put `due` past what the clock counts (292 years); a
  // wait of thirty years is as good as for ever and converts without overflow.
  const double due_seconds = std::min(done / rate_->per_second, kForeverSeconds);
  const auto due = start_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(due_seconds));
  const auto now = std::chrono::steady_clock::now();
  // Ahead by less than a millisecond: go on, the sleep would cost more than it corrects. The
  // schedule is absolute, so the small overshoot is taken back by later sleeps.
  if (due - now < std::chrono::milliseconds(1)) return true;
  programs::sleep_unless_stopped(due - now);
  return !programs::stop_requested();
}

}  // namespace ringfile::producer
