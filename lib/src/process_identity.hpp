// A process named by pid and start time, so that a recycled pid is not taken for alive.
#pragma once

#include <cstdint>

namespace ringfile::detail {

struct ProcessIdentity {
  std::uint64_t pid = 0;
  std::uint64_t start_time = 0;  // /proc/PID/stat field 22, clock ticks since boot
};

// This process; computed once, and again in a child of fork().
const ProcessIdentity& current_process() noexcept;

// The largest process id Linux hands out (PID_MAX_LIMIT on 64-bit; /proc/sys/kernel/pid_max is
// at most this). An owner pid above it, read from a damaged file, names no process.
inline constexpr std::uint64_t kMostProcessId = 4 * 1024 * 1024;

// What process_start_time returns for a process that exists but that /proc does not show us:
// mounted with hidepid (1, 2, or invisible), it hides other users' processes.
inline constexpr std::uint64_t kStartTimeHidden = ~std::uint64_t{0};

// Start time of `pid`; 0 when it does not exist or is a zombie (killed, not yet reaped);
// kStartTimeHidden when it exists and /proc will not say more.
std::uint64_t process_start_time(std::uint64_t pid) noexcept;

// True when `identity` names a running process (never for a pid of 0 or above kMostProcessId,
// which kill() would take for a process group, or for every process). A hidden one (kStartTimeHidden) counts as
// alive: we cannot tell a recycled pid from the owner then, and taking a live owner for dead
// (padding over its claim at once, handing its slot to another) is worse than waiting for a
// dead one (a claim is still padded over after the unblock timeout).
bool is_alive(const ProcessIdentity& identity) noexcept;

}  // namespace ringfile::detail
