#include "throughput/fan_out.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <string>

#include <ringfile/system/clock.hpp>

#include "support/cpu_pinning.hpp"

namespace ringfile::bench::throughput {

namespace {

constexpr char kAttached = 'A';  // the first byte a child sends once it is in place
constexpr char kEnded = 'E';     // ... or instead, when it ended before that

bool write_all(int fd, const void* data, std::size_t size) noexcept {
  const auto* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, bytes, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return false;
    bytes += written;
    size -= static_cast<std::size_t>(written);
  }
  return true;
}

std::string read_to_end(int fd) {
  std::string bytes;
  char buffer[4096];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
}

// A child's result: four counts, then its error text.
constexpr std::size_t kCounts = 4;

[[noreturn]] void run_child(const PassConfig& config, std::uint32_t index, const ExtraConsumers::Consume& consume,
                            int fd) {
  bool attached = false;
  const auto say_attached = [&] {
    if (attached) return;
    attached = true;
    write_all(fd, &kAttached, 1);
  };
  PassResult result;
  if (!pin_current_thread(config.consumer_cpu)) {
    result.error = "cannot pin the consumer";
  } else {
    try {
      result = consume(index, say_attached);
    } catch (const std::exception& failure) {
      result.error = failure.what();
    }
  }
  if (!attached) write_all(fd, &kEnded, 1);
  const std::uint64_t counts[kCounts] = {result.records_received, result.sequence_errors, result.first_send_ns,
                                         result.last_arrival_ns};
  const bool sent = write_all(fd, counts, sizeof counts) && write_all(fd, result.error.data(), result.error.size());
  ::_exit(sent ? 0 : 1);
}

}  // namespace

ExtraConsumers::ExtraConsumers(const PassConfig& config, const Consume& consume) {
  for (std::uint32_t index = 1; index < config.consumers; ++index) {
    int pipe_ends[2];
    if (::pipe(pipe_ends) != 0) {
      start_error_ = std::string("pipe: ") + std::strerror(errno);
      return;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(pipe_ends[0]);
      run_child(config, index, consume, pipe_ends[1]);
    }
    ::close(pipe_ends[1]);
    if (pid < 0) {
      ::close(pipe_ends[0]);
      start_error_ = std::string("fork: ") + std::strerror(errno);
      return;
    }
    children_.push_back({pid, pipe_ends[0]});
    // One at a time: a consumer attaching is not racing the next one's fork.
    char first = 0;
    ssize_t got = 0;
    do {
      got = ::read(pipe_ends[0], &first, 1);
    } while (got < 0 && errno == EINTR);
    if (got != 1 || first != kAttached) {
      start_error_ = "consumer " + std::to_string(index) + " ended before it attached";
      return;
    }
  }
}

ExtraConsumers::~ExtraConsumers() {
  if (children_.empty()) return;
  PassResult ignored;
  merge_into(ignored, true);
}

void ExtraConsumers::merge_into(PassResult& first, bool kill) {
  if (first.error.empty()) first.error = start_error_;
  std::uint64_t first_send_ns = first.first_send_ns;
  std::uint64_t last_arrival_ns = first.last_arrival_ns;
  for (std::size_t at = 0; at < children_.size(); ++at) {
    Child& child = children_[at];
    if (kill || !start_error_.empty()) ::kill(child.pid, SIGKILL);
    const std::string bytes = read_to_end(child.report_fd);
    ::close(child.report_fd);
    int status = 0;
    ::waitpid(child.pid, &status, 0);
    const std::string name = "consumer " + std::to_string(at + 1);
    std::uint64_t counts[kCounts] = {};
    if (bytes.size() < sizeof counts) {
      if (first.error.empty()) first.error = name + " process failed";
      first.records_received = 0;
      continue;
    }
    std::memcpy(counts, bytes.data(), sizeof counts);
    const std::string error = bytes.substr(sizeof counts);
    if (first.error.empty() && !error.empty()) first.error = name + ": " + error;
    first.records_received = std::min(first.records_received, counts[0]);
    first.sequence_errors += counts[1];
    if (counts[2] != 0) first_send_ns = first_send_ns == 0 ? counts[2] : std::min(first_send_ns, counts[2]);
    last_arrival_ns = std::max(last_arrival_ns, counts[3]);
  }
  children_.clear();
  first.first_send_ns = first_send_ns;
  first.last_arrival_ns = last_arrival_ns;
  if (first_send_ns != 0) first.seconds = system::seconds_between(first_send_ns, last_arrival_ns);
}

}  // namespace ringfile::bench::throughput
