// The smallest complete use of ringfile: one process creates a ring and writes records, a second
// process attaches by path and reads them back, checking each one.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "ringfile/consumer.hpp"
#include "ringfile/error.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace {

constexpr std::uint64_t kRecords = 200000;
constexpr std::size_t kRecordBytes = 512;

int run_consumer(const std::filesystem::path& path) {
  ringfile::Ring ring = ringfile::Ring::open(path);
  ringfile::Consumer consumer =
      ringfile::Consumer::attach(ring, {.name = "example-reader", .start = ringfile::StartFrom::earliest});
  ringfile::SyntheticVerifier verifier;
  while (verifier.totals().records < kRecords) {
    const auto polled = consumer.poll([&](const ringfile::Record& record) { verifier.check(record.payload); });
    if (polled.status != ringfile::PollStatus::ok) {
      std::fprintf(stderr, "consumer: %s\n", polled.error_message.c_str());
      return 1;
    }
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(100));
  }
  const auto& totals = verifier.totals();
  std::printf("consumer (pid %d): %llu records, %llu missing, %llu corrupt, %llu duplicates\n", ::getpid(),
              static_cast<unsigned long long>(totals.records), static_cast<unsigned long long>(totals.missing),
              static_cast<unsigned long long>(totals.corrupt), static_cast<unsigned long long>(totals.duplicates));
  return totals.missing == 0 && totals.corrupt == 0 && totals.duplicates == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string argument = argv[1];
    if (argument == "--help" || argument == "-h") {
      std::printf("Usage: ringfile-example\n\nCreates a 16 MiB ring in a new directory under %s, writes %llu records of %zu "
                  "bytes into it, and reads them back in a second process, checking each one. Takes no options; "
                  "the source (examples/quickstart.cpp) is the example.\n",
                  std::filesystem::temp_directory_path().c_str(), static_cast<unsigned long long>(kRecords), kRecordBytes);
      return 0;
    }
    std::fprintf(stderr, "ringfile-example: takes no arguments ('%s'); see --help\n", argument.c_str());
    return 2;
  }
  const auto directory = std::filesystem::temp_directory_path() / ("ringfile-example-" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  const auto path = directory / "example.ring";
  try {
    ringfile::Ring ring = ringfile::Ring::create(path, {.capacity_bytes = 16 * ringfile::kMiB});
    std::printf("created %s: %llu MiB ring, block policy\n", path.c_str(),
                static_cast<unsigned long long>(ring.info().capacity_bytes / ringfile::kMiB));
    std::fflush(stdout);  // or the child inherits and prints the buffer again
    const pid_t reader = ::fork();
    if (reader == 0) {
      const int code = run_consumer(path);
      std::fflush(stdout);
      ::_exit(code);
    }

    // Wait until the consumer has attached, so that it holds the producer back from its start.
    int status = 0;
    while (ring.consumers().empty()) {
      if (::waitpid(reader, &status, WNOHANG) == reader) {
        std::fprintf(stderr, "ringfile-example: the consumer ended before it attached\n");
        std::filesystem::remove_all(directory);
        return 1;
      }
      std::this_thread::yield();
    }
    ringfile::Producer producer(ring);
    const auto started = std::chrono::steady_clock::now();
    for (std::uint64_t sequence = 0; sequence < kRecords; ++sequence) {
      ringfile::ClaimResult claim = producer.claim(kRecordBytes, std::chrono::seconds(10));
      if (!claim) {
        std::fprintf(stderr, "producer: claim failed: %s\n", ringfile::to_string(claim.status));
        return 1;
      }
      ringfile::fill_synthetic(claim.buffer, 1, sequence);  // written in place: zero copy
      producer.commit();
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("producer (pid %d): %llu records of %zu bytes in %.2f s (%.0f MB/s, %.2f laps)\n", ::getpid(),
                static_cast<unsigned long long>(kRecords), kRecordBytes, seconds,
                static_cast<double>(kRecords * kRecordBytes) / seconds / 1e6,
                static_cast<double>(ring.head_position()) / static_cast<double>(ring.info().capacity_bytes));
    ::waitpid(reader, &status, 0);
    std::filesystem::remove_all(directory);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  } catch (const ringfile::Error& error) {
    std::fprintf(stderr, "ringfile-example: %s\n", error.what());
    std::filesystem::remove_all(directory);
    return 1;
  }
}
