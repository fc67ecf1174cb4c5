#include "throughput/fan_in.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "support/cpu_pinning.hpp"

namespace ringfile::bench::throughput {

namespace {
constexpr int kNotPinned = 2;
}  // namespace

ExtraProducers::ExtraProducers(const PassConfig& config, const std::function<bool(std::uint32_t index)>& produce) {
  for (std::uint32_t index = 1; index < config.producers; ++index) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      if (!pin_current_thread(config.producer_cpu)) ::_exit(kNotPinned);
      bool sent = false;
      try {
        sent = produce(index);
      } catch (const std::exception&) {
        sent = false;
      }
      ::_exit(sent ? 0 : 1);
    }
    if (pid < 0) {
      start_error_ = std::string("fork: ") + std::strerror(errno);
      return;
    }
    children_.push_back(pid);
  }
}

ExtraProducers::~ExtraProducers() { finish(true); }

std::string ExtraProducers::finish(bool kill) {
  std::string error = start_error_;
  for (std::size_t at = 0; at < children_.size(); ++at) {
    if (kill) ::kill(children_[at], SIGKILL);
    int status = 0;
    ::waitpid(children_[at], &status, 0);
    if (!error.empty() || kill || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) continue;
    const std::string name = "producer " + std::to_string(at + 1);
    error = WIFEXITED(status) && WEXITSTATUS(status) == kNotPinned ? "cannot pin " + name : name + " process failed";
  }
  children_.clear();
  return error;
}

}  // namespace ringfile::bench::throughput
