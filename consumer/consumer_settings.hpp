// Everything the command line of ringfile-consumer asks for, checked for consistency.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>

#include "ringfile/consumer.hpp"
#include "ringfile/programs/record_format.hpp"

namespace ringfile::consumer {

struct ConsumerSettings {
  std::filesystem::path path;

  std::string name;  // empty: anonymous
  StartFrom start = StartFrom::committed;  // committed is latest for an anonymous consumer
  std::optional<std::uint64_t> start_position;
  bool holds_back = true;  // --no-hold clears it

  // Output; `discard` when nothing is written.
  bool discard = false;
  std::string output = "-";
  bool append = false;
  programs::RecordFormat format = programs::RecordFormat::lines;

  bool verify = false;
  bool skip_damaged = false;  // read on past damaged records, counting them as lost

  // When to stop; otherwise follow until SIGINT/SIGTERM.
  std::optional<std::uint64_t> count;
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::chrono::nanoseconds> until_idle;

  // When to save the cursor; neither set: after every batch, once its output is written.
  std::optional<std::uint64_t> commit_every_records;
  std::optional<std::chrono::nanoseconds> commit_every_time;

  bool quiet = false;
  bool json = false;
};

// The settings, or the exit code when the program should end now (--help, bad usage).
std::variant<ConsumerSettings, int> parse_consumer_settings(int argc, char** argv);

}  // namespace ringfile::consumer
