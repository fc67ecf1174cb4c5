// Everything the command line of ringfile-status asks for.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace ringfile::status {

enum class OutputFormat { table, json, prometheus };

// --max-lag: a size, a duration, or both given twice.
struct LagLimit {
  std::optional<std::uint64_t> bytes;
  std::optional<std::chrono::nanoseconds> time;
};

struct StatusSettings {
  std::vector<std::filesystem::path> paths;
  // Rates and trends compare two samples this far apart; zero: one sample, no rates.
  std::chrono::nanoseconds interval = std::chrono::seconds(1);
  bool watch = false;
  std::optional<std::chrono::nanoseconds> watch_duration;  // --duration
  std::optional<std::uint64_t> watch_samples;              // --count
  OutputFormat format = OutputFormat::table;
  LagLimit max_lag;
  bool color = false;  // ANSI colours: a terminal, and neither NO_COLOR nor --no-color
  std::string listen;  // --listen HOST:PORT: serve the Prometheus format over HTTP at /metrics
};

// The settings, or the exit code when the program should end now (--help, bad usage).
std::variant<StatusSettings, int> parse_status_settings(int argc, char** argv);

}  // namespace ringfile::status
