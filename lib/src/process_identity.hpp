// A process named by pid and start time, so that a recycled pid is not taken for alive.
#pragma once

#include <cstdint>

namespace ringfile::detail {

struct ProcessIdentity {
  std::uint64_t pid = 0;
  std::uint64_t start_time = 0;  // /proc/PID/stat field 22, clock ticks since boot
};

// This process; computed once.
const ProcessIdentity& current_process() noexcept;

// Start time of `pid`, or 0 when it does not exist or is a zombie (killed, not yet reaped).
std::uint64_t process_start_time(std::uint64_t pid) noexcept;

// True when `identity` names a running process.
bool is_alive(const ProcessIdentity& identity) noexcept;

}  // namespace ringfile::detail
