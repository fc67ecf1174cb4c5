#include "support/forked_pair.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

// The first byte a ReportingChild sends.
constexpr std::byte kReady{'R'};
constexpr std::byte kNotReady{'N'};

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

namespace {

// A report as bytes: the three sizes, then the counts, the text and the samples.
std::string encode(const ChildReport& report) {
  const std::uint64_t sizes[] = {report.counts.size(), report.text.size(), report.samples.size()};
  std::string bytes;
  const auto append = [&bytes](std::span<const std::byte> part) {
    bytes.append(reinterpret_cast<const char*>(part.data()), part.size());
  };
  append(std::as_bytes(std::span(sizes)));
  append(std::as_bytes(std::span(report.counts)));
  append(std::as_bytes(std::span(report.text)));
  append(std::as_bytes(std::span(report.samples)));
  return bytes;
}

std::optional<ChildReport> decode(const std::string& bytes) {
  std::uint64_t sizes[3] = {};
  if (bytes.size() < sizeof(sizes)) return std::nullopt;
  std::memcpy(sizes, bytes.data(), sizeof(sizes));
  const std::size_t counts_at = sizeof(sizes);
  const std::size_t text_at = counts_at + sizes[0] * sizeof(std::uint64_t);
  const std::size_t samples_at = text_at + sizes[1];
  if (sizes[0] > bytes.size() || sizes[1] > bytes.size() || sizes[2] > bytes.size() ||
      bytes.size() != samples_at + sizes[2] * sizeof(std::uint64_t)) {
    return std::nullopt;
  }
  ChildReport report;
  report.counts.resize(sizes[0]);
  std::memcpy(report.counts.data(), bytes.data() + counts_at, sizes[0] * sizeof(std::uint64_t));
  report.text = bytes.substr(text_at, sizes[1]);
  report.samples.resize(sizes[2]);
  std::memcpy(report.samples.data(), bytes.data() + samples_at, sizes[2] * sizeof(std::uint64_t));
  return report;
}

}  // namespace

ReportingChild::ReportingChild(const std::function<ChildReport(const std::function<void()>& ready)>& work) {
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) return;
  pid_ = ::fork();
  if (pid_ == 0) {
    ::close(pipe_ends[0]);
    programs::OutputStream out(pipe_ends[1]);
    bool said = false;
    // The first byte says whether the child got ready; the report follows it.
    const auto say = [&](std::byte first) {
      if (said) return;
      said = true;
      out.write({&first, 1});
      out.flush();
    };
    bool sent = false;
    try {
      const ChildReport report = work([&] { say(kReady); });
      say(kNotReady);
      const std::string bytes = encode(report);
      out.write(std::as_bytes(std::span(bytes)));
      sent = out.flush();
    } catch (const std::exception&) {
      sent = false;
    }
    ::_exit(sent ? 0 : kChildFailed);
  }
  ::close(pipe_ends[1]);
  if (pid_ < 0) {
    ::close(pipe_ends[0]);
    return;
  }
  report_fd_ = pipe_ends[0];
}

ReportingChild::~ReportingChild() { finish(true); }

bool ReportingChild::wait_ready() {
  if (!first_byte_read_ && report_fd_ >= 0) {
    first_byte_read_ = true;
    std::byte first{};
    ssize_t got = 0;
    do {
      got = ::read(report_fd_, &first, 1);
    } while (got < 0 && errno == EINTR);
    ready_ = got == 1 && first == kReady;
  }
  return ready_;
}

std::optional<ChildReport> ReportingChild::finish(bool kill) {
  if (pid_ <= 0) return std::nullopt;
  if (kill) ::kill(pid_, SIGKILL);
  wait_ready();  // past the first byte
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(report_fd_, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  ::close(report_fd_);
  report_fd_ = -1;
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return decode(bytes);
}

std::optional<ChildReport> run_in_child_process(const std::function<ChildReport()>& work) {
  ReportingChild child([&](const std::function<void()>&) { return work(); });
  return child.finish();
}

}  // namespace ringfile::bench
