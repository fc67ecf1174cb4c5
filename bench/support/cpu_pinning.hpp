// Pinning benchmark threads so producer and consumer each own a core and the scheduler does not
// move them mid-run (the machine has 2 cores; a migration shows up as a latency spike).
#pragma once

#include <sched.h>

#include <optional>

namespace ringfile::bench {

// Pins the calling thread to `cpu`. false if the CPU does not exist or is not allowed to us.
bool pin_current_thread(int cpu) noexcept;

// The calling thread's affinity now, to put back after a pinned section run on this thread.
class SavedAffinity {
 public:
  SavedAffinity() noexcept;
  ~SavedAffinity();
  SavedAffinity(const SavedAffinity&) = delete;
  SavedAffinity& operator=(const SavedAffinity&) = delete;

 private:
  cpu_set_t saved_{};
  bool valid_ = false;
};

int online_cpu_count() noexcept;

}  // namespace ringfile::bench
