// Per-process counters that show where a process's CPU time went (its disk reads come from
// ringfile/system/process_io.hpp).
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::bench::wrap {

// Page faults that had to wait for I/O, from getrusage.
std::uint64_t own_major_faults() noexcept;

// User + system time of every thread of this process so far (getrusage RUSAGE_SELF).
std::uint64_t own_cpu_ns() noexcept;

// User + system time of the calling thread so far (CLOCK_THREAD_CPUTIME_ID).
std::uint64_t thread_cpu_ns() noexcept;

// Time the threads of this process have spent runnable but waiting for a CPU, summed
// (/proc/self/task/*/schedstat, second field); 0 where the kernel does not keep it. On a machine
// whose CPUs are shared, this is what tells a process slowed by others from one that is blocked.
std::uint64_t own_runqueue_wait_ns() noexcept;

// Where a process's time went, measured in the process itself; a plain struct, so that a child
// can leave it in memory shared with the parent.
struct ProcessTimes {
  std::uint64_t cpu_ns = 0;         // user + system of every thread (getrusage RUSAGE_SELF)
  std::uint64_t runqueue_wait_ns = 0;  // its threads' time runnable but not running
  std::uint64_t waited_ns = 0;      // wall time spent waiting for the other side
  std::uint64_t waits = 0;          // calls that waited
  std::uint64_t wait_cpu_ns = 0;    // the waiting thread's CPU time during those waits
  bool wait_cpu_known = true;       // false: cannot be told apart from work in the same call
  std::uint64_t major_faults = 0;   // getrusage ru_majflt
  std::uint64_t disk_read_bytes = 0;  // /proc/self/io read_bytes
};

// The CPU time, major faults and disk reads of this process from construction to finish().
class RunCounters {
 public:
  RunCounters() noexcept;
  // Fills cpu_ns, runqueue_wait_ns, major_faults and disk_read_bytes of `times`.
  void finish(ProcessTimes& times) const noexcept;

 private:
  std::uint64_t cpu_ns_;
  std::uint64_t runqueue_wait_ns_;
  std::uint64_t major_faults_;
  std::uint64_t disk_read_bytes_;
};

}  // namespace ringfile::bench::wrap
