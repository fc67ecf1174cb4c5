// Real child processes for multi-process tests: the test binary re-executes itself with
// `--child ROLE ARGS...` and the parent talks to it through its stdin and stdout.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ringfile::test {

class ChildProcess {
 public:
  // Starts `/proc/self/exe --child role args...`.
  ChildProcess(const std::string& role, const std::vector<std::string>& args);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // The next line the child printed, without its newline; nullopt at end of output.
  std::optional<std::string> read_line();
  void write_line(const std::string& line);
  void kill_hard();  // SIGKILL, then reap
  // SIGSTOP, returning once the child (every thread of it) has stopped; throws if it ended instead.
  void stop();
  void resume();  // SIGCONT
  // Waits for the child to exit; returns its exit code, or 128 + signal.
  int wait();
  // Whether the child has exited (reaped if so), without waiting.
  bool ended();
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
  int to_child_ = -1;
  int from_child_ = -1;
  std::string buffered_;
  std::optional<int> exit_code_;

  // waitpid with `options` (0 or WNOHANG); records the exit code when it reaped the child.
  bool reap(int options);
};

// A pid that no process has any more: a child that exited and was reaped.
std::uint64_t pid_of_ended_process();

// Called by main() for `--child ROLE ARGS...`; returns the exit code.
int run_child_role(int argc, char** argv);

// Runs `misuse` in a forked child and returns how the child ended (as ChildProcess::wait): for
// API misuse that debug builds stop at an assertion (128 + SIGABRT). The child makes its own
// producers and consumers: they do not survive fork().
int run_forked(const std::function<void()>& misuse);

}  // namespace ringfile::test
