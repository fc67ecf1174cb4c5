#include "process_identity.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ringfile::detail {

std::uint64_t process_start_time(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > kMostProcessId) return 0;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%llu/stat", static_cast<unsigned long long>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // Gone (ENOENT), or hidden by hidepid (ENOENT or EACCES) while it runs: kill() tells.
    const bool exists = ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
    return exists ? kStartTimeHidden : 0;
  }
  char text[1024];
  const ssize_t length = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (length <= 0) return 0;
  text[length] = '\0';
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const char* after_name = std::strrchr(text, ')');
  if (after_name == nullptr || after_name[1] == '\0') return 0;
  const char* cursor = after_name + 2;  // field 3: state
  const char state = *cursor;
  if (state == 'Z' || state == 'X') return 0;  // killed: only the parent's wait is missing
  for (int field = 3; field < 22; ++field) {
    cursor = std::strchr(cursor, ' ');
    if (cursor == nullptr) return 0;
    ++cursor;
  }
  return std::strtoull(cursor, nullptr, 10);
}

namespace {

ProcessIdentity identify_self() noexcept {
  const auto pid = static_cast<std::uint64_t>(::getpid());
  return {pid, process_start_time(pid)};
}

ProcessIdentity& self_identity() noexcept {
  static ProcessIdentity self = [] {
    // A child of fork() is another process: it names itself anew before fork() returns there
    // (one thread runs in it then). Named once and inherited, a child that opened a producer
    // owned its slot, and took the preparation lock, in its parent's name: its claims looked
    // live after it died, and a lock it died holding was never taken over while the parent
    // lived (found by a tester: every producer stalled).
    ::pthread_atfork(nullptr, nullptr, [] { self_identity() = identify_self(); });
    return identify_self();
  }();
  return self;
}

}  // namespace

const ProcessIdentity& current_process() noexcept { return self_identity(); }

bool is_alive(const ProcessIdentity& identity) noexcept {
  // Cast to pid_t, 2^32-1 or 2^64-1 is kill(-1, 0), which succeeds: a forged owner passed for a
  // live one that no --delete could remove and producers waited for (found by a tester).
  if (identity.pid == 0 || identity.pid > kMostProcessId) return false;
  if (::kill(static_cast<pid_t>(identity.pid), 0) != 0 && errno == ESRCH) return false;
  const std::uint64_t start_time = process_start_time(identity.pid);
  return start_time == kStartTimeHidden || start_time == identity.start_time;
}

}  // namespace ringfile::detail
