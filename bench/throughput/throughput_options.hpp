// The throughput benchmark's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ringfile::bench::throughput {

struct ThroughputOptions {
  std::vector<std::uint64_t> record_sizes{64, 4096, 625'000};
  std::uint64_t records = 0;  // per pass; 0: by size (see records_for_size)
  std::vector<std::string> transports;  // empty: every registered transport, in that order
  std::string baseline;  // ratios are against this transport; empty: the first of `transports`
  std::uint64_t queue_depth = 64;
  int producer_cpu = 0;
  int consumer_cpu = 1;
  std::uint64_t send_interval_ns = 0;
  std::uint64_t clock_every = 1;  // both sides read the clock for every clock_every-th record only
  std::uint64_t repeat = 3;  // passes per size and transport; the report quotes medians
  std::uint32_t consumers = 1;  // each reads every record (transports that fan out only)
  std::uint32_t producers = 1;  // the records split between them (transports that fan in only)
  bool json = false;
  bool quick = false;  // smoke test: small sizes, few records, one pass
};

// Parses and checks argv. Returns nullopt to run, or the exit code (after --help: 0; a bad option
// or value: 2, with its one-line error printed). Throws programs::UsageError for a value that
// parses but cannot be used.
std::optional<int> parse_throughput_options(int argc, char** argv, ThroughputOptions& options);

// Records per pass for a size when --records is not given: about 2 GB, at most 2 million, at
// least 2000, so every size runs roughly a second on this kind of machine.
std::uint64_t records_for_size(const ThroughputOptions& options, std::uint64_t record_bytes);

}  // namespace ringfile::bench::throughput
