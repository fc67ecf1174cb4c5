#include "support/cpu_pinning.hpp"

#include <pthread.h>
#include <unistd.h>

namespace ringfile::bench {

bool pin_current_thread(int cpu) noexcept {
  if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  CPU_SET(cpu, &cpus);
  return pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
}

SavedAffinity::SavedAffinity() noexcept {
  CPU_ZERO(&saved_);
  valid_ = pthread_getaffinity_np(pthread_self(), sizeof(saved_), &saved_) == 0;
}

SavedAffinity::~SavedAffinity() {
  if (valid_) pthread_setaffinity_np(pthread_self(), sizeof(saved_), &saved_);
}

int online_cpu_count() noexcept {
  const long count = sysconf(_SC_NPROCESSORS_ONLN);
  return count > 0 ? static_cast<int>(count) : 1;
}

}  // namespace ringfile::bench
