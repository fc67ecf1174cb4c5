// What the parent needs to run a set of forked children (the memory shared with them is
// ringfile/system/shared_memory.hpp): reaping,
// stopping them on Ctrl-C, and saying how one ended.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>


namespace ringfile::bench::wrap {

struct ChildProcess {
  pid_t pid = -1;
  const char* role = "";  // "writer", "reader", "replayer", ...
  std::size_t ring_index = 0;
  bool reaped = false;
  int wait_status = 0;
};

// Where forked children wait until all of them are set up, so that setup (opening, mapping,
// sizing a memory budget) stays out of what is timed. In memory shared with the children.
struct StartGate {
  // Child: says it is set up, then waits until the parent opens the gate.
  void check_in_and_wait() noexcept;
  // Parent: waits until every child has checked in (or exited: a failed setup), or a stop.
  void wait_for_check_ins(std::vector<ChildProcess>& children) noexcept;
  // Parent: lets every child go.
  void open_now() noexcept;

  alignas(64) std::atomic<std::uint32_t> checked_in{0};
  alignas(64) std::atomic<std::uint32_t> open{0};
};

// Reaps whatever has exited, without waiting; returns how many children are still running.
std::size_t reap_exited_children(std::vector<ChildProcess>& children);

// Until every child has exited: calls `each_round` about every 5 ms, and sends SIGTERM to every
// child still running once a stop is requested.
void watch_children(std::vector<ChildProcess>& children, const std::function<void()>& each_round);

bool exited_cleanly(const ChildProcess& child) noexcept;
// "reader of ring 3 killed by signal 9 (out of memory in the box?): <error>".
std::string describe_exit(const ChildProcess& child, const char* error);

// Appends `error` to a "; "-separated list of what went wrong.
void append_error(std::string& errors, const std::string& error);

// Set from a SIGINT/SIGTERM handler: the running children are stopped and the run cleans up.
void request_stop() noexcept;
bool stop_requested() noexcept;

}  // namespace ringfile::bench::wrap
