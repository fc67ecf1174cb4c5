// `iceoryx`: Eclipse iceoryx 2.0 (Debian's libiceoryx-posh-dev), zero-copy publish/subscribe
// between two processes through the shared memory its daemon RouDi manages: the producer loans a
// chunk, writes the record into it and publishes it; the consumer takes it and releases it.
// Built only where the package is installed; each pass starts its own `iox-roudi` (Debian's
// iceoryx package) and stops it, and fails with a message when there is none.
//
// The subscriber's queue holds 256 chunks, iceoryx's build-time maximum (--queue-depth does not
// apply); both sides wait rather than drop (WAIT_FOR_CONSUMER, BLOCK_PRODUCER). An iceoryx runtime can be set up once per process, so each pass runs in a
// process of its own (the consumer), which forks the producer and sends its result back.
#include <fcntl.h>
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
#include <string>
#include <vector>

#include "iceoryx_hoofs/log/logmanager.hpp"
#include "iceoryx_posh/popo/untyped_publisher.hpp"
#include "iceoryx_posh/popo/untyped_subscriber.hpp"
#include "iceoryx_posh/runtime/posh_runtime.hpp"
#include "ringfile/programs/byte_streams.hpp"
#include "ringfile/system/clock.hpp"
#include "support/spin_wait.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

constexpr std::uint64_t kMaxQueuedChunks = 256;  // MAX_SUBSCRIBER_QUEUE_CAPACITY of Debian's build
constexpr std::uint64_t kRoudiStartTimeoutNs = 10'000'000'000;

iox::capro::ServiceDescription service() { return {"ringfile-bench", "throughput", "records"}; }

void init_runtime(const char* role) {
  // Its debug lines (segments registered, ...) would bury the benchmark's progress.
  iox::log::LogManager::GetLogManager().SetDefaultLogLevel(iox::log::LogLevel::kWarn,
                                                           iox::log::LogLevelOutput::kHideLogLevel);
  const std::string name = std::string("ringfile-bench-") + role + "-" + std::to_string(::getpid());
  iox::runtime::PoshRuntime::initRuntime(iox::RuntimeName_t(iox::cxx::TruncateToCapacity, name.c_str()));
}

bool produce(const PassConfig& config) {
  init_runtime("producer");
  iox::popo::PublisherOptions options;
  options.subscriberTooSlowPolicy = iox::popo::ConsumerTooSlowPolicy::WAIT_FOR_CONSUMER;
  iox::popo::UntypedPublisher publisher(service(), options);
  // Records sent before the subscription is in place would go nowhere (no history is kept).
  SpinGuard guard;
  while (!publisher.hasSubscribers()) {
    if (!guard.keep_spinning()) return false;
  }
  std::vector<std::byte> record(config.record_bytes);
  fill_record(record);
  RecordStamper stamper(config);
  const auto bytes = static_cast<std::uint32_t>(config.record_bytes);
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    void* chunk = nullptr;
    guard.reset();
    for (;;) {
      auto loaned = publisher.loan(bytes);
      if (!loaned.has_error()) {
        chunk = loaned.value();
        break;
      }
      if (!guard.keep_spinning()) return false;  // the memory pool stayed empty
    }
    const std::span<std::byte> slot(static_cast<std::byte*>(chunk), record.size());
    std::memcpy(slot.data(), record.data(), record.size());
    stamper.stamp(slot, sequence);
    publisher.publish(chunk);
  }
  return true;
}

PassResult consume(const PassConfig& config) {
  init_runtime("consumer");
  iox::popo::SubscriberOptions options;
  options.queueCapacity = kMaxQueuedChunks;  // the nearest it comes to the others' 64 MiB
  options.queueFullPolicy = iox::popo::QueueFullPolicy::BLOCK_PRODUCER;
  iox::popo::UntypedSubscriber subscriber(service(), options);
  ReceiveLog log(config.records);
  SpinGuard guard;
  while (log.received() < config.records) {
    auto taken = subscriber.take();
    if (taken.has_error()) {
      if (!guard.keep_spinning()) return std::move(log).producer_gone();
      continue;
    }
    guard.reset();
    const void* chunk = taken.value();
    const auto* header = iox::mepoo::ChunkHeader::fromUserPayload(chunk);
    log.on_record({static_cast<const std::byte*>(chunk), header->userPayloadSize()});
    subscriber.release(chunk);
  }
  return std::move(log).finish();
}

// The pass's result, through a pipe from the process that ran it.
void send_result(int fd, const PassResult& result) {
  const std::uint64_t numbers[] = {result.records_received, result.sequence_errors, result.error.size(),
                                   result.latencies_ns.size()};
  programs::OutputStream out(fd);
  out.write(std::as_bytes(std::span(numbers)));
  out.write(std::as_bytes(std::span(&result.seconds, 1)));
  out.write(std::as_bytes(std::span(result.error)));
  out.write(std::as_bytes(std::span(result.latencies_ns)));
  out.flush();  // a short result is reported by receive_result
}

PassResult receive_result(int fd) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t got = ::read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    bytes.append(buffer, static_cast<std::size_t>(got));
  }
  PassResult result;
  std::uint64_t numbers[4] = {};
  if (bytes.size() < sizeof(numbers) + sizeof(double)) {
    result.error = "the pass's process ended without a result";
    return result;
  }
  std::memcpy(numbers, bytes.data(), sizeof(numbers));
  std::memcpy(&result.seconds, bytes.data() + sizeof(numbers), sizeof(double));
  const std::size_t error_at = sizeof(numbers) + sizeof(double);
  if (bytes.size() != error_at + numbers[2] + numbers[3] * sizeof(std::uint64_t)) {
    result.error = "the pass's process sent a truncated result";
    return result;
  }
  result.records_received = numbers[0];
  result.sequence_errors = numbers[1];
  result.error = bytes.substr(error_at, numbers[2]);
  result.latencies_ns.resize(numbers[3]);
  std::memcpy(result.latencies_ns.data(), bytes.data() + error_at + numbers[2], numbers[3] * sizeof(std::uint64_t));
  return result;
}

// RouDi, started for one pass and stopped after it.
class Roudi {
 public:
  Roudi() {
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
      ::_exit(127);
    }
    ::close(log);
    if (pid_ < 0) {
      error_ = "cannot fork for iox-roudi";
      return;
    }
    // Ready when it says so; gone when it could not start (no binary, another RouDi running).
    const std::uint64_t deadline = system::monotonic_ns() + kRoudiStartTimeoutNs;
    for (;;) {
      const std::string said = log_text();
      if (said.find("RouDi is ready for clients") != std::string::npos) return;
      int status = 0;
      const bool ended = ::waitpid(pid_, &status, WNOHANG) == pid_;
      if (ended || system::monotonic_ns() > deadline) {
        if (ended) pid_ = -1;
        error_ = WIFEXITED(status) && WEXITSTATUS(status) == 127
                     ? "iox-roudi not found: install Debian's iceoryx package"
                     : "iox-roudi did not start: " + last_line(said);
        return;
      }
      ::usleep(10'000);
    }
  }
  ~Roudi() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    if (!log_path_.empty()) ::unlink(log_path_.c_str());
  }
  Roudi(const Roudi&) = delete;
  Roudi& operator=(const Roudi&) = delete;

  const std::string& error() const noexcept { return error_; }

 private:
  std::string log_text() const {
    std::ifstream file(log_path_);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  }
  static std::string last_line(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    std::string last = "(no output)";
    while (std::getline(lines, line)) {
      if (!line.empty()) last = line;
    }
    return last;
  }

  pid_t pid_ = -1;
  std::string log_path_;
  std::string error_;
};

PassResult run_iceoryx(const PassConfig& config) {
  PassResult result;
  const Roudi roudi;
  if (!roudi.error().empty()) {
    result.error = roudi.error();
    return result;
  }
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) {
    result.error = "pipe failed";
    return result;
  }
  const pid_t pass = ::fork();
  if (pass == 0) {
    ::close(pipe_ends[0]);
    const PassResult done =
        run_in_two_processes(config, [&] { return produce(config); }, [&] { return consume(config); });
    send_result(pipe_ends[1], done);
    ::_exit(0);
  }
  ::close(pipe_ends[1]);
  if (pass < 0) {
    ::close(pipe_ends[0]);
    result.error = "fork failed";
    return result;
  }
  result = receive_result(pipe_ends[0]);
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(pass, &status, 0);
  return result;
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

const Transport kIceoryxTransport{
    "iceoryx",
    "Eclipse iceoryx 2.0: loan, publish, take, release; zero copy through RouDi's shared memory, "
    "two busy processes, at most 256 queued",
    run_iceoryx,
};

}  // namespace ringfile::bench::throughput
