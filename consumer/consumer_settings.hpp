// Everything the command line of ringfile-consumer asks for, checked for consistency.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ringfile/consumer.hpp"

namespace ringfile::consumer {

// What this run does: read records (the default), or manage named consumers.
enum class Action {
  read,
  list,      // --list: every consumer of the ring
  describe,  // --describe NAME
  remove,    // --delete NAME...
  reset,     // --reset NAME --to WHERE [--dry-run]
  clear_damaged,  // --clear-damaged-slots: free the slots a damaged header left unreadable
};

// How records are written out.
enum class OutputFormat {
  lines,   // each record and a newline
  raw,     // records back to back
  frames,  // a 4-byte little-endian length, then the payload
  jsonl,   // one JSON object per record, with its metadata
  hex,     // a header line per record, then a hex dump of its payload
};

struct ConsumerSettings {
  std::filesystem::path path;
  Action action = Action::read;

  std::string name;  // empty: anonymous
  StartFrom start = StartFrom::committed;  // committed is latest for an anonymous consumer
  std::optional<Seek> seek;                // --from POSITION, TIME or -N
  std::optional<std::uint64_t> from_time_ns;  // --from TIME: records committed before it are skipped
  bool holds_back = true;                  // --no-hold clears it
  std::chrono::milliseconds expire_after{0};

  // Output; `discard` when nothing is written.
  bool discard = false;
  std::string output = "-";
  bool append = false;
  OutputFormat format = OutputFormat::lines;
  std::string show_template;  // --show: each record through this template (kcat -f style)

  bool verify = false;
  bool skip_damaged = false;  // read on past damaged records, counting them as lost

  // When to stop; otherwise follow until SIGINT/SIGTERM.
  std::optional<std::uint64_t> count;
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::chrono::nanoseconds> until_idle;
  std::optional<std::uint64_t> until_time_ns;  // --until: before the first record committed then

  // When to save the cursor; neither set: after every batch, once its output is written.
  std::optional<std::uint64_t> commit_every_records;
  std::optional<std::chrono::nanoseconds> commit_every_time;

  // Managing named consumers.
  std::vector<std::string> delete_names;
  std::string target_name;  // --describe, --reset
  Seek reset_to;            // --to
  bool dry_run = false;

  bool quiet = false;
  bool json = false;
};

// The settings, or the exit code when the program should end now (--help, bad usage).
std::variant<ConsumerSettings, int> parse_consumer_settings(int argc, char** argv);

}  // namespace ringfile::consumer
