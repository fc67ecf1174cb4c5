// Everything the command line of ringfile-bridge asks for, checked for consistency.
//
//   ringfile-bridge out RING --nats URL[,URL...] --stream S --subject SUBJ [--name NAME] ...
//   ringfile-bridge in  RING --nats URL[,URL...] --stream S [--subject SUBJ] --durable NAME ...
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/options.hpp"

namespace ringfile::bridge {

// Where the stream is and what it must look like.
struct StreamSettings {
  std::vector<std::string> urls;  // nats://host:port, tls://host:port or host:port
  std::string stream;
  std::string subject;  // out: required; in: optional filter
  // Used when the stream is created, and checked when it exists, only if given.
  std::optional<std::int64_t> replicas;
  std::optional<std::uint64_t> max_bytes;
  std::chrono::milliseconds request_timeout{5000};  // JetStream API calls
};

// When to stop; otherwise run until SIGINT/SIGTERM.
struct StopSettings {
  std::optional<std::uint64_t> count;
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::chrono::nanoseconds> until_idle;
};

struct ReportSettings {
  bool quiet = false;
  bool json = false;
};

struct OutSettings {
  std::filesystem::path ring;
  StreamSettings stream;
  std::string name;  // the bridge's named consumer in the ring
  StartFrom start = StartFrom::committed;
  std::optional<Seek> seek;  // --from POSITION, -N or TIME: overrides `start`
  std::uint32_t max_in_flight = 4096;                 // records published, not yet acknowledged
  std::uint64_t max_in_flight_bytes = 64 * kMiB;      // and their payload bytes
  std::chrono::milliseconds ack_timeout{5000};        // a publish unacknowledged this long is retried
  StopSettings stop;
  ReportSettings report;
};

struct InSettings {
  std::filesystem::path ring;
  StreamSettings stream;
  std::string durable;
  // Creating the ring when absent.
  bool create = false;
  std::uint64_t size_bytes = 0;
  std::optional<WriterPolicy> policy;
  std::optional<std::uint64_t> max_record_bytes;
  std::filesystem::path state_file;  // default: RING.DURABLE.bridge-in
  std::uint32_t batch = 256;         // messages per fetch
  std::chrono::milliseconds ack_wait{30000};
  StopSettings stop;
  ReportSettings report;
};

using BridgeSettings = std::variant<OutSettings, InSettings>;

// The settings, or the exit code when the program should end now (--help, bad usage).
std::variant<BridgeSettings, int> parse_bridge_settings(int argc, char** argv);

// Checks one server URL of --nats; the reason it is not one, or nullopt.
std::optional<std::string> url_problem(const std::string& url);
// NATS names: a stream or durable (no spaces, dots, wildcards), a subject (dot-separated tokens;
// wildcards only where `wildcards_allowed`).
std::optional<std::string> name_problem(const std::string& name);
std::optional<std::string> subject_problem(const std::string& subject, bool wildcards_allowed);

}  // namespace ringfile::bridge
