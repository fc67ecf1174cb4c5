// What producer processes have done so far. A parent running several producer processes reads
// their tallies from shared memory to show progress and sum up; one process reads its own.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>

namespace ringfile::producer {

// Written by one producer process, read by its parent; every field on the writer's own line.
struct alignas(64) ProducerTally {
  // Relaxed everywhere: these are counters for display, nothing is published through them.
  std::atomic<std::uint64_t> records{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> backpressure_ns{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "tallies are shared between processes");

struct TallyTotals {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  std::uint64_t backpressure_ns = 0;
};

TallyTotals sum(std::span<const ProducerTally> tallies);

// Turns successive totals into the progress line: rates since the previous line.
class ProgressMeter {
 public:
  explicit ProgressMeter(std::size_t processes);
  std::string line(const TallyTotals& totals);

 private:
  std::size_t processes_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point previous_time_;
  TallyTotals previous_;
};

}  // namespace ringfile::producer
