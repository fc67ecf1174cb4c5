#include "support/forked_pair.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <span>

#include "ringfile/programs/byte_streams.hpp"
#include "ringfile/system/errno_text.hpp"
#include "support/cpu_pinning.hpp"

namespace ringfile::bench {

namespace {

// Exit statuses of the child process.
constexpr int kChildFailed = 1;
constexpr int kChildNotPinned = 2;

}  // namespace

std::string run_forked_pair(const ForkedSide& child, const ForkedSide& parent) {
  const pid_t child_pid = ::fork();
  if (child_pid < 0) return system::describe_errno("fork", errno);
  if (child_pid == 0) {
    if (!pin_current_thread(child.cpu)) ::_exit(kChildNotPinned);
    bool done = false;
    try {
      done = child.run();
    } catch (const std::exception&) {
      done = false;
    }
    ::_exit(done ? 0 : kChildFailed);
  }
  bool parent_done = false;
  bool parent_pinned = false;
  {
    const SavedAffinity restore_affinity;
    parent_pinned = pin_current_thread(parent.cpu);
    try {
      parent_done = parent.run();
    } catch (const std::exception&) {
      parent_done = false;
    }
  }
  if (!parent_done) ::kill(child_pid, SIGKILL);
  int status = 0;
  ::waitpid(child_pid, &status, 0);
  if (!parent_done) return {};
  if (!parent_pinned) return "cannot pin the " + parent.role;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  return WIFEXITED(status) && WEXITSTATUS(status) == kChildNotPinned
             ? "cannot pin the " + child.role
             : child.role + " process failed";
}

std::optional<std::string> run_in_child_process(const std::function<std::string()>& work) {
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) return std::nullopt;
  const pid_t child_pid = ::fork();
  if (child_pid == 0) {
    ::close(pipe_ends[0]);
    bool sent = false;
    try {
      const std::string bytes = work();
      programs::OutputStream out(pipe_ends[1]);
      out.write(std::as_bytes(std::span(bytes)));
      sent = out.flush();
    } catch (const std::exception&) {
      sent = false;
    }
    ::_exit(sent ? 0 : kChildFailed);
  }
  ::close(pipe_ends[1]);
  if (child_pid < 0) {
    ::close(pipe_ends[0]);
    return std::nullopt;
  }
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(pipe_ends[0], buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child_pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return bytes;
}

}  // namespace ringfile::bench
