#include "ringfile/programs/stop_signals.hpp"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace ringfile::programs {
namespace {

// Lock-free, so incrementing it in a signal handler is async-signal-safe.
std::atomic<int> g_stop_requests{0};
static_assert(std::atomic<int>::is_always_lock_free);
std::atomic<bool> g_deadline_passed{false};  // request_stop_after's

extern "C" void count_stop_request(int) {
  // Relaxed: the count is the only thing communicated; loops poll it.
  g_stop_requests.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = count_stop_request;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: see the header
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  sigaction(SIGPIPE, &ignore, nullptr);
}

void request_stop_after(std::chrono::nanoseconds duration) {
  // Beyond a century, never (and now() + duration would overflow near the largest durations).
  if (duration > std::chrono::hours(24 * 365 * 100)) return;
  // A thread of its own, left to sleep: no signal to interrupt the other threads' calls (the NATS
  // client's), and it ends with the process.
  std::thread([duration] {
    std::this_thread::sleep_for(duration);
    // Relaxed, as the handler's count.
    g_deadline_passed.store(true, std::memory_order_relaxed);
  }).detach();
}

int stop_requests() noexcept { return g_stop_requests.load(std::memory_order_relaxed); }

bool stop_requested() noexcept {
  return stop_requests() > 0 || g_deadline_passed.load(std::memory_order_relaxed);
}

void sleep_unless_stopped(std::chrono::nanoseconds duration) {
  // Slices, not one long sleep: a signal that lands between the check and the sleep would
  // otherwise be noticed only at the end of the whole duration.
  constexpr std::chrono::nanoseconds kSlice = std::chrono::milliseconds(20);
  const auto end = std::chrono::steady_clock::now() + duration;
  while (!stop_requested()) {
    const auto left = end - std::chrono::steady_clock::now();
    if (left <= std::chrono::nanoseconds::zero()) return;
    const auto slice = std::min<std::chrono::nanoseconds>(left, kSlice);
    timespec pause{static_cast<time_t>(slice.count() / 1'000'000'000), static_cast<long>(slice.count() % 1'000'000'000)};
    nanosleep(&pause, nullptr);  // EINTR from a stop signal ends the slice early: wanted
  }
}

}  // namespace ringfile::programs
