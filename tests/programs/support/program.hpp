// Runs the real programs as child processes: stdout and stderr go to files in the test's work
// directory, stdin comes from a file, a pipe the test writes, or /dev/null.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::program_test {

inline const std::string kProducer = RINGFILE_PRODUCER_BINARY;
inline const std::string kConsumer = RINGFILE_CONSUMER_BINARY;
inline const std::string kStatus = RINGFILE_STATUS_BINARY;
inline const std::string kExample = RINGFILE_EXAMPLE_BINARY;

struct Launch {
  std::optional<std::string> stdin_file;  // else /dev/null, unless stdin_pipe
  bool stdin_pipe = false;                 // the test writes with write_stdin()
  std::optional<uid_t> run_as;             // drop to this uid (and gid) before exec
  std::optional<rlim_t> address_space;     // the child's RLIMIT_AS in bytes (as ulimit -v), set before exec
};

class Program {
 public:
  Program(const std::string& binary, const std::vector<std::string>& args, const std::string& work_dir,
          const Launch& launch = {});
  ~Program();  // SIGKILLs and reaps a child still running
  Program(const Program&) = delete;
  Program& operator=(const Program&) = delete;

  pid_t pid() const noexcept { return pid_; }
  void write_stdin(std::string_view bytes);
  void close_stdin();
  void signal(int signal_number) const;
  // SIGSTOP, at a moment the child does not hold the table lock of `ring` (the flock that
  // attaching, detaching and a producer's slot take): stopped holding it, a consumer would keep
  // every producer from attaching, where a test stops it to have it alive and reading nothing.
  // Stopped, checked, and let go on and stopped again until it is so.
  void stop_outside_table_lock(const std::string& ring);
  // Exit code, or 128 + signal; fails the test (and kills the child) after `timeout`, a guard
  // against a hang only: generous, as the sanitizer builds run several times slower.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(120));
  bool running();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  std::optional<int> exit_code_;
  std::string out_path_;
  std::string err_path_;
};

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to its end.
Result run(const std::string& binary, const std::vector<std::string>& args, const std::string& work_dir,
           const Launch& launch = {});

// The full path of `name` found in $PATH, as a shell would run it; nullopt when absent (tests
// of optional tools then skip, saying so).
std::optional<std::string> find_in_path(const std::string& name);

// A copy of `binary` in `work_dir` that user `uid` may run: the build tree may sit under a
// directory only its owner can enter (a clone in root's home, mode 0700). nullopt, with the
// reason in `why_not`, when that user cannot reach the work directory either.
std::optional<std::string> binary_for_user(const std::string& binary, const std::string& work_dir, uid_t uid,
                                           std::string* why_not);

// A program to run as a user who may not write what its mode forbids: as it is where the tests do
// not run as root; under root, which may write any file whatever its mode, a copy that nobody
// (uid 65534) may run, launched as nobody.
struct UnprivilegedProgram {
  std::string binary;
  Launch launch;
};
// nullopt, with the reason in `why_not`, when nobody cannot reach the work directory.
std::optional<UnprivilegedProgram> unprivileged(const std::string& binary, const std::string& work_dir,
                                                std::string* why_not);

// The state letter of /proc/<pid>/stat: 'R' running or waiting for a CPU, 'S' asleep (in poll,
// say), 'T' once a SIGSTOP has taken effect; '?' when it cannot be read.
char process_state(pid_t pid);

// Checks `condition` every few milliseconds until it holds (true) or `timeout` passes (false).
bool eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace ringfile::program_test
