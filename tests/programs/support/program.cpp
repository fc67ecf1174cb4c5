#include "support/program.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/work_dir.hpp"

namespace ringfile::program_test {
namespace {

std::atomic<int> g_output_counter{0};

// Between fork and exec only async-signal-safe calls: no allocation, no exceptions.
[[noreturn]] void become_program(const char* binary, char* const* argv, int stdin_fd, const char* out_path,
                                 const char* err_path, const std::optional<uid_t>& run_as,
                                 const std::optional<rlim_t>& address_space) {
  const int out_fd = ::open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const int err_fd = ::open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (stdin_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(126);
  ::dup2(stdin_fd, STDIN_FILENO);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  if (run_as) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(*run_as) != 0 || ::setuid(*run_as) != 0) ::_exit(125);
  }
  if (address_space) {
    const rlimit limit{*address_space, *address_space};
    if (::setrlimit(RLIMIT_AS, &limit) != 0) ::_exit(123);
  }
  ::execv(binary, argv);
  ::_exit(127);
}

}  // namespace

Program::Program(const std::string& binary, const std::vector<std::string>& args, const std::string& work_dir,
                 const Launch& launch) {
  const int number = g_output_counter.fetch_add(1);
  const std::string stem = work_dir + "/" + binary.substr(binary.rfind('/') + 1) + "-" + std::to_string(number);
  out_path_ = stem + ".out";
  err_path_ = stem + ".err";
  std::vector<std::string> words{binary};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);

  int child_stdin = -1;
  if (launch.stdin_pipe) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
    child_stdin = pipe_fds[0];
    stdin_fd_ = pipe_fds[1];
  } else {
    child_stdin = ::open(launch.stdin_file ? launch.stdin_file->c_str() : "/dev/null", O_RDONLY | O_CLOEXEC);
    if (child_stdin < 0) throw std::runtime_error("cannot open the child's stdin");
  }
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    become_program(binary.c_str(), argv.data(), child_stdin, out_path_.c_str(), err_path_.c_str(), launch.run_as,
                   launch.address_space);
  }
  ::close(child_stdin);
}

Program::~Program() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (!exit_code_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void Program::write_stdin(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(stdin_fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("writing to the child's stdin failed");
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

void Program::close_stdin() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
}

void Program::signal(int signal_number) const { ::kill(pid_, signal_number); }

char process_state(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const std::size_t name_end = line.rfind(')');
  return name_end == std::string::npos || name_end + 2 >= line.size() ? '?' : line[name_end + 2];
}

void Program::stop_outside_table_lock(const std::string& ring) {
  const int fd = ::open(ring.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE_MESSAGE(fd >= 0, "opening " << ring);
  const bool stopped_outside = eventually([&] {
    REQUIRE(running());
    ::kill(pid_, SIGSTOP);
    if (!eventually([&] { return process_state(pid_) == 'T'; })) return false;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      ::flock(fd, LOCK_UN);
      return true;
    }
    ::kill(pid_, SIGCONT);
    return false;
  });
  ::close(fd);
  REQUIRE_MESSAGE(stopped_outside, "the child kept the table lock of " << ring);
}

bool Program::running() {
  if (exit_code_) return false;
  int status = 0;
  const pid_t reaped = ::waitpid(pid_, &status, WNOHANG);
  if (reaped != pid_) return true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return false;
}

int Program::wait(std::chrono::milliseconds timeout) {
  if (!eventually([&] { return !running(); }, timeout)) {
    ::kill(pid_, SIGKILL);
    FAIL("process " << pid_ << " did not exit within " << timeout.count() << " ms; stderr: " << err());
  }
  return *exit_code_;
}

std::string Program::out() const { return read_file(out_path_); }
std::string Program::err() const { return read_file(err_path_); }

Result run(const std::string& binary, const std::vector<std::string>& args, const std::string& work_dir,
           const Launch& launch) {
  Program program(binary, args, work_dir, launch);
  Result result;
  result.exit_code = program.wait();
  result.out = program.out();
  result.err = program.err();
  return result;
}

std::optional<std::string> find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string directories = path != nullptr ? path : "/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= directories.size()) {
    const std::size_t end = std::min(directories.find(':', start), directories.size());
    const std::string candidate = (end > start ? directories.substr(start, end - start) : ".") + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<std::string> binary_for_user(const std::string& binary, const std::string& work_dir, uid_t uid,
                                           std::string* why_not) {
  const std::string copy = work_dir + "/" + binary.substr(binary.rfind('/') + 1) + "-for-" + std::to_string(uid);
  std::error_code error;
  std::filesystem::copy_file(binary, copy, std::filesystem::copy_options::overwrite_existing, error);
  if (error || ::chmod(copy.c_str(), 0755) != 0) {
    *why_not = "cannot copy " + binary + " to " + copy;
    return std::nullopt;
  }
  // Whether that user can reach it is for the kernel to say: ask as that user.
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0) ::_exit(2);
    ::_exit(::access(copy.c_str(), X_OK) == 0 ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    *why_not = "user " + std::to_string(uid) + " cannot reach " + work_dir +
               " (a parent directory is closed to it); set TMPDIR to a directory it can enter";
    return std::nullopt;
  }
  return copy;
}

std::optional<UnprivilegedProgram> unprivileged(const std::string& binary, const std::string& work_dir,
                                                std::string* why_not) {
  if (::geteuid() != 0) return UnprivilegedProgram{binary, {}};
  constexpr uid_t kNobody = 65534;
  const std::optional<std::string> copy = binary_for_user(binary, work_dir, kNobody, why_not);
  if (!copy) return std::nullopt;
  return UnprivilegedProgram{*copy, Launch{.run_as = kNobody}};
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace ringfile::program_test
