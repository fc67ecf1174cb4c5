// Waiting for another process by spinning, with a guard for when that process has died.
#pragma once

#include <cstdint>

#include "ringfile/system/clock.hpp"

namespace ringfile::bench {

// Spinning politely: tells the core (and its SMT sibling) that this is a wait loop.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A dead peer must not hang the run.
inline constexpr std::uint64_t kPeerTimeoutNs = 10'000'000'000;

// Spins on a condition a peer process changes, giving up after kPeerTimeoutNs without
// progress. The clock is read once per 4096 spins so that a busy wait stays a busy wait.
class SpinGuard {
 public:
  // Call after each failed check. false: the peer made no progress for kPeerTimeoutNs.
  bool keep_spinning() noexcept {
    cpu_relax();
    if ((++spins_ & 4095) != 0) return true;
    const std::uint64_t now_ns = system::monotonic_ns();
    if (since_ns_ == 0) since_ns_ = now_ns;
    return now_ns - since_ns_ < kPeerTimeoutNs;
  }
  // Call when the peer made progress.
  void reset() noexcept {
    spins_ = 0;
    since_ns_ = 0;
  }

 private:
  std::uint64_t spins_ = 0;
  std::uint64_t since_ns_ = 0;
};

}  // namespace ringfile::bench
