// detail::process_start_time and detail::is_alive: owners named by pid and start time, and what a
// /proc mounted with hidepid hides.
#include <doctest/doctest.h>

#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <initializer_list>

#include "process_identity.hpp"

using namespace ringfile::detail;

namespace {

// A child process that waits until the returned descriptor is closed, then exits; as `uid` when
// that is not 0.
pid_t start_waiting_child(uid_t uid, int* release) {
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_ends[1]);
    if (uid != 0 && (::setresgid(uid, uid, uid) != 0 || ::setresuid(uid, uid, uid) != 0)) ::_exit(1);
    char ignored = 0;
    while (::read(pipe_ends[0], &ignored, 1) > 0) {
    }
    ::_exit(0);
  }
  ::close(pipe_ends[0]);
  *release = pipe_ends[1];
  return child;
}

void end_waiting_child(pid_t child, int release) {
  ::close(release);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
}

// The pid of a child that has exited and been reaped.
std::uint64_t reaped_pid() {
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  return static_cast<std::uint64_t>(child);
}

}  // namespace

TEST_CASE("a running process is alive; the same pid with another start time, or reaped, is not") {
  int release = -1;
  const pid_t child = start_waiting_child(0, &release);
  const ProcessIdentity identity{static_cast<std::uint64_t>(child), process_start_time(static_cast<std::uint64_t>(child))};
  CHECK(identity.start_time != 0);
  CHECK(identity.start_time != kStartTimeHidden);
  CHECK(is_alive(identity));
  CHECK_FALSE(is_alive({identity.pid, identity.start_time + 1}));  // a recycled pid
  end_waiting_child(child, release);
  CHECK(process_start_time(identity.pid) == 0);
  CHECK_FALSE(is_alive(identity));
}

TEST_CASE("an owner pid no process can have is not alive: kill() would take it for a group or for all") {
  for (const std::uint64_t pid : {std::uint64_t{0xFFFFFFFF}, ~std::uint64_t{0}, (std::uint64_t{1} << 32) + 1,
                                  std::uint64_t{0x80000000}, kMostProcessId + 1}) {
    INFO("pid " << pid);
    CHECK(process_start_time(pid) == 0);
    CHECK_FALSE(is_alive({pid, 0}));
    CHECK_FALSE(is_alive({pid, kStartTimeHidden}));
  }
  // This process, by contrast, with its start time.
  CHECK(is_alive(current_process()));
}

TEST_CASE("another user's process that /proc hides (hidepid) is taken for alive, a gone one still for dead") {
  if (::geteuid() != 0) {
    MESSAGE("skipped: needs root (a /proc of its own mounted with hidepid=2, and two other users)");
    return;
  }
  constexpr uid_t kOwnerUser = 65534;   // the owner of a slot, say
  constexpr uid_t kLookingUser = 65533;  // another user's program reading the same ring
  constexpr int kCannotSetUp = 10;
  int release = -1;
  const pid_t owner = start_waiting_child(kOwnerUser, &release);
  const ProcessIdentity identity{static_cast<std::uint64_t>(owner), process_start_time(static_cast<std::uint64_t>(owner))};
  const std::uint64_t gone = reaped_pid();
  REQUIRE(identity.start_time != 0);

  const pid_t looker = ::fork();
  REQUIRE(looker >= 0);
  if (looker == 0) {
    // A mount namespace of its own, so that the new /proc is seen by this process only.
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
        ::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") != 0 ||
        ::setresgid(kLookingUser, kLookingUser, kLookingUser) != 0 ||
        ::setresuid(kLookingUser, kLookingUser, kLookingUser) != 0) {
      ::_exit(kCannotSetUp);
    }
    if (process_start_time(identity.pid) != kStartTimeHidden) ::_exit(1);
    if (!is_alive(identity)) ::_exit(2);
    if (process_start_time(gone) != 0 || is_alive({gone, identity.start_time})) ::_exit(3);
    const std::uint64_t self = process_start_time(static_cast<std::uint64_t>(::getpid()));
    if (self == 0 || self == kStartTimeHidden) ::_exit(4);
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(looker, &status, 0) == looker);
  end_waiting_child(owner, release);
  REQUIRE(WIFEXITED(status));
  if (WEXITSTATUS(status) == kCannotSetUp) {
    MESSAGE("skipped: cannot mount a private /proc with hidepid=2 here (no CAP_SYS_ADMIN?)");
    return;
  }
  // 1: hidden read as gone; 2: hidden taken for dead; 3: a gone pid taken for alive; 4: our own
  // start time unreadable.
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a child of fork() names itself, not the parent that named itself before the fork") {
  // Found by a tester: the identity was computed once and inherited, so a child's producer owned
  // its slot and took the preparation lock in the parent's name.
  const ProcessIdentity parent = current_process();
  REQUIRE(parent.pid == static_cast<std::uint64_t>(::getpid()));
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const ProcessIdentity self = current_process();
    const bool named_itself = self.pid == static_cast<std::uint64_t>(::getpid()) &&
                              self.start_time == process_start_time(self.pid) && is_alive(self);
    ::_exit(named_itself ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(current_process().pid == parent.pid);
}
