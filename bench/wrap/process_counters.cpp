#include "wrap/process_counters.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "ringfile/system/process_io.hpp"

namespace ringfile::bench::wrap {

std::uint64_t own_major_faults() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_majflt);
}

std::uint64_t own_cpu_ns() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto nanoseconds = [](const timeval& time) {
    return static_cast<std::uint64_t>(time.tv_sec) * 1'000'000'000ull +
           static_cast<std::uint64_t>(time.tv_usec) * 1'000ull;
  };
  return nanoseconds(usage.ru_utime) + nanoseconds(usage.ru_stime);
}

std::uint64_t thread_cpu_ns() noexcept {
  timespec now{};
  if (::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now) != 0) return 0;
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000ull +
         static_cast<std::uint64_t>(now.tv_nsec);
}

std::uint64_t own_runqueue_wait_ns() noexcept {
  DIR* const tasks = ::opendir("/proc/self/task");
  if (tasks == nullptr) return 0;
  std::uint64_t total = 0;
  while (const dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    char path[300];  // "/proc/self/task/" + a name of up to 255 bytes + "/schedstat"
    std::snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", entry->d_name);
    std::FILE* const file = std::fopen(path, "r");
    if (file == nullptr) continue;
    // "on-CPU ns, runnable-waiting ns, timeslices"
    std::uint64_t on_cpu = 0;
    std::uint64_t waiting = 0;
    if (std::fscanf(file, "%" SCNu64 " %" SCNu64, &on_cpu, &waiting) == 2) total += waiting;
    std::fclose(file);
  }
  ::closedir(tasks);
  return total;
}

RunCounters::RunCounters() noexcept
    : cpu_ns_(own_cpu_ns()),
      runqueue_wait_ns_(own_runqueue_wait_ns()),
      major_faults_(own_major_faults()),
      disk_read_bytes_(system::own_process_io().value_or(system::ProcessIo{}).read_bytes) {}

void RunCounters::finish(ProcessTimes& times) const noexcept {
  times.cpu_ns = own_cpu_ns() - cpu_ns_;
  // Threads that ended meanwhile take their share with them: never below zero.
  const std::uint64_t runqueue_wait_ns = own_runqueue_wait_ns();
  times.runqueue_wait_ns = runqueue_wait_ns > runqueue_wait_ns_ ? runqueue_wait_ns - runqueue_wait_ns_ : 0;
  times.major_faults = own_major_faults() - major_faults_;
  times.disk_read_bytes = system::own_process_io().value_or(system::ProcessIo{}).read_bytes - disk_read_bytes_;
}

}  // namespace ringfile::bench::wrap
