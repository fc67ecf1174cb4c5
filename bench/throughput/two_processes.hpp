// What the shared-memory and socket transports have in common: a mapping both processes see, a
// forked producer process and a consumer on the calling thread, each pinned, and a guard that
// stops a spinning side when its peer has died.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "support/clock.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

// Buffer bytes of every transport between processes that has a buffer to size (the ring file's
// capacity, the shared-memory queues' storage), so that none holds more records in flight.
inline constexpr std::size_t kSharedBufferBytes = std::size_t{64} << 20;

// A dead peer must not hang the run.
inline constexpr std::uint64_t kPeerTimeoutNs = 10'000'000'000;

// POSIX shared memory (shm_open, unlinked at once), mapped here before the fork so the producer
// process inherits the same pages. Unmapped when destroyed.
class SharedMapping {
 public:
  // Throws SetupError when /dev/shm has no room or the mapping fails.
  explicit SharedMapping(std::size_t bytes);
  ~SharedMapping();
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return bytes_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// Spins on a condition the peer process changes, giving up after kPeerTimeoutNs without
// progress. The clock is read once per 4096 spins so that a busy wait stays a busy wait.
class SpinGuard {
 public:
  // Call after each failed check. false: the peer made no progress for kPeerTimeoutNs.
  bool keep_spinning() noexcept {
    cpu_relax();
    if ((++spins_ & 4095) != 0) return true;
    const std::uint64_t now_ns = monotonic_ns();
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

// Forks; the child pins itself to config.producer_cpu and runs `producer` (true: every record
// sent), the calling thread pins itself to config.consumer_cpu and runs `consumer`, then waits for
// the child. The result is the consumer's, with an error added when the producer failed or either
// side could not be pinned. The producer is killed when the consumer fails. Never throws.
PassResult run_in_two_processes(const PassConfig& config, const std::function<bool()>& producer,
                                const std::function<PassResult()>& consumer);

}  // namespace ringfile::bench::throughput
