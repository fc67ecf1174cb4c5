// The documents of `ringfile-status --json`, parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringfile::program_test {

struct StatusConsumer {
  std::uint32_t slot = 0;
  std::string name;
  std::uint64_t pid = 0;
  bool alive = false;
  std::string state;
  std::uint64_t position = 0;
  std::uint64_t lag_bytes = 0;
  std::optional<double> lag_seconds;
  std::optional<std::uint64_t> lag_records_estimate;
  bool holds_back = false;
  bool detached = false;
  std::optional<std::uint64_t> lost_records;  // null in the JSON: how many is unknown
};

struct StatusProducer {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;
  std::uint64_t committed_records = 0;
  bool waiting = false;
  std::optional<double> waiting_seconds;
  std::optional<std::string> waiting_for;
  double waited_seconds_total = 0;
};

struct StatusDocument {
  std::string path;
  std::uint64_t capacity = 0;
  std::uint64_t head = 0;
  std::optional<double> write_bytes_per_s;
  std::uint64_t resident_bytes = 0;
  std::uint64_t producers_waiting = 0;
  std::vector<StatusConsumer> consumers;
  std::vector<StatusProducer> producers;

  // The consumer with this name; fails the test when there is none.
  const StatusConsumer& consumer(const std::string& name) const;
};

StatusDocument parse_status_document(const std::string& json_line);

// Runs `ringfile-status --json --interval INTERVAL RING` and parses its one document.
StatusDocument status_of(const std::string& ring, const std::string& work_dir, const std::string& interval = "0");

}  // namespace ringfile::program_test
