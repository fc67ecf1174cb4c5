#include "support/roudi_process.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "ringfile/system/clock.hpp"

namespace ringfile::bench {

namespace {

constexpr std::uint64_t kRoudiStartTimeoutNs = 10'000'000'000;
constexpr int kExecFailed = 127;

std::string last_line(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  std::string last = "(no output)";
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

}  // namespace

bool iox_roudi_on_path() {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path != nullptr ? path : "");
  std::string folder;
  while (std::getline(folders, folder, ':')) {
    if (!folder.empty() && ::access((folder + "/iox-roudi").c_str(), X_OK) == 0) return true;
  }
  return false;
}

RoudiProcess::RoudiProcess() {
  char path[] = "/tmp/ringfile-bench-roudi-XXXXXX";
  const int log = ::mkstemp(path);
  if (log < 0) {
    error_ = "cannot create a log file for iox-roudi";
    return;
  }
  log_path_ = path;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execlp("iox-roudi", "iox-roudi", static_cast<char*>(nullptr));
    std::fprintf(stderr, "exec failed: %s\n", std::strerror(errno));
    ::_exit(kExecFailed);
  }
  ::close(log);
  if (pid_ < 0) {
    error_ = "cannot fork for iox-roudi";
    return;
  }
  // Ready when it says so; gone when it could not start. Polled: its log is the only signal.
  const std::uint64_t deadline = system::monotonic_ns() + kRoudiStartTimeoutNs;
  for (;;) {
    const std::string said = log_text();
    if (said.find("RouDi is ready for clients") != std::string::npos) return;
    int status = 0;
    const bool ended = ::waitpid(pid_, &status, WNOHANG) == pid_;
    if (ended || system::monotonic_ns() > deadline) {
      if (ended) pid_ = -1;
      error_ = ended && WIFEXITED(status) && WEXITSTATUS(status) == kExecFailed
                   ? "iox-roudi not found: install Debian's iceoryx package"
                   : "iox-roudi did not start: " + last_line(said);
      return;
    }
    ::usleep(10'000);
  }
}

RoudiProcess::~RoudiProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

std::string RoudiProcess::log_text() const {
  std::ifstream file(log_path_);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace ringfile::bench
