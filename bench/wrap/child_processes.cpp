#include "wrap/child_processes.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ringfile::bench::wrap {

namespace {

volatile std::sig_atomic_t stop_flag = 0;

constexpr useconds_t kMonitorPollMicros = 5000;
constexpr useconds_t kGatePollMicros = 100;

}  // namespace

void request_stop() noexcept { stop_flag = 1; }
bool stop_requested() noexcept { return stop_flag != 0; }

void StartGate::check_in_and_wait() noexcept {
  // Release: what the child set up happens before the parent counts it ready (its acquire load).
  checked_in.fetch_add(1, std::memory_order_release);
  // Acquire: pairs with the parent's release store when it opens the gate.
  while (open.load(std::memory_order_acquire) == 0) ::usleep(kGatePollMicros);
}

void StartGate::wait_for_check_ins(std::vector<ChildProcess>& children) noexcept {
  for (;;) {
    const std::size_t running = reap_exited_children(children);
    // Acquire: pairs with each child's release fetch_add in check_in_and_wait.
    const std::size_t ready = checked_in.load(std::memory_order_acquire);
    if (ready >= running || stop_requested()) return;
    ::usleep(kGatePollMicros);
  }
}

void StartGate::open_now() noexcept {
  // Release: pairs with each child's acquire load of the gate.
  open.store(1, std::memory_order_release);
}

std::size_t reap_exited_children(std::vector<ChildProcess>& children) {
  std::size_t running = 0;
  for (ChildProcess& child : children) {
    if (child.reaped) continue;
    const pid_t result = ::waitpid(child.pid, &child.wait_status, WNOHANG);
    if (result == child.pid || (result < 0 && errno == ECHILD)) {
      child.reaped = true;
    } else {
      ++running;
    }
  }
  return running;
}

void watch_children(std::vector<ChildProcess>& children, const std::function<void()>& each_round) {
  bool children_stopped = false;
  while (reap_exited_children(children) > 0) {
    each_round();
    if (stop_requested() && !children_stopped) {
      for (const ChildProcess& child : children) {
        if (!child.reaped) ::kill(child.pid, SIGTERM);
      }
      children_stopped = true;
    }
    ::usleep(kMonitorPollMicros);
  }
  each_round();  // whatever happened in the last poll interval, as the children exited
}

void append_error(std::string& errors, const std::string& error) {
  errors += (errors.empty() ? "" : "; ") + error;
}

bool exited_cleanly(const ChildProcess& child) noexcept {
  return WIFEXITED(child.wait_status) && WEXITSTATUS(child.wait_status) == 0;
}

std::string describe_exit(const ChildProcess& child, const char* error) {
  std::string text = std::string(child.role) + " of ring " + std::to_string(child.ring_index);
  if (WIFSIGNALED(child.wait_status)) {
    const int signal_number = WTERMSIG(child.wait_status);
    text += " killed by signal " + std::to_string(signal_number);
    if (signal_number == SIGKILL) text += " (out of memory in the box?)";
    if (signal_number == SIGBUS) text += " (SIGBUS: disk full under a mapping?)";
  } else {
    text += " exited with status " + std::to_string(WEXITSTATUS(child.wait_status));
  }
  if (error != nullptr && error[0] != '\0') text += ": " + std::string(error);
  return text;
}

}  // namespace ringfile::bench::wrap
