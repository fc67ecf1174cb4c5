#include "throughput/throughput_options.hpp"

#include <algorithm>

#include "support/byte_size.hpp"
#include "support/cpu_pinning.hpp"
#include "support/option_parser.hpp"
#include "support/setup_error.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

namespace {

std::string known_transports() {
  std::string names;
  for (const Transport& transport : transports()) {
    names += (names.empty() ? "" : ", ") + std::string(transport.name);
  }
  return names;
}

void check(const ThroughputOptions& options) {
  for (const std::uint64_t size : options.record_sizes) {
    if (size < kCompactRecordHeaderBytes) {
      throw SetupError("record sizes must be at least " +
                       std::to_string(kCompactRecordHeaderBytes) +
                       " bytes (sequence and send stamp)");
    }
  }
  for (const std::string& name : options.transports) {
    if (find_transport(name) == nullptr) {
      throw SetupError("unknown transport '" + name + "' (known: " + known_transports() + ")");
    }
  }
  if (find_transport(options.baseline) == nullptr) {
    throw SetupError("unknown --baseline transport '" + options.baseline + "'");
  }
  if (options.queue_depth == 0 || options.queue_depth > (1u << 20)) {
    throw SetupError("--queue-depth must be 1..1048576");
  }
  if (options.repeat == 0) throw SetupError("--repeat must be at least 1");
  const int cpus = online_cpu_count();
  if (options.producer_cpu < 0 || options.producer_cpu >= cpus || options.consumer_cpu < 0 ||
      options.consumer_cpu >= cpus) {
    throw SetupError("--producer-cpu and --consumer-cpu must be 0.." + std::to_string(cpus - 1));
  }
}

}  // namespace

bool parse_throughput_options(int argc, char** argv, ThroughputOptions& options) {
  OptionParser parser(
      "ringfile-bench-throughput",
      "Passes records from one producer to one consumer through each transport, pinned to two\n"
      "CPUs, and reports records/s, bytes/s and one-way latency percentiles (from a\n"
      "CLOCK_MONOTONIC stamp in each record), with ratios against a baseline of the same run.\n"
      "Latency is measured under full load unless --interval-ns paces the producer, so it\n"
      "includes time spent queued (up to --queue-depth records, or 64 MiB of them).\n"
      "Transports: " +
          known_transports());
  std::vector<std::string> size_texts;
  for (const std::uint64_t size : options.record_sizes) size_texts.push_back(std::to_string(size));
  parser.add_list("--sizes", &size_texts, "record sizes, e.g. 64,4K,625000");
  parser.add_count("--records", &options.records, "records per pass (0: ~2 GB, 2000..2000000)");
  parser.add_list("--transports", &options.transports,
                  "transports to run, in this order (default: every transport)");
  parser.add_text("--baseline", &options.baseline,
                  "transport the others are compared with (default: the first of --transports)");
  parser.add_count("--queue-depth", &options.queue_depth, "records in flight at most");
  parser.add_int("--producer-cpu", &options.producer_cpu, "CPU the producer is pinned to");
  parser.add_int("--consumer-cpu", &options.consumer_cpu, "CPU the consumer is pinned to");
  parser.add_count("--interval-ns", &options.send_interval_ns,
                   "pace the producer: one record every this many ns (0: flat out)");
  parser.add_count("--repeat", &options.repeat, "passes per size and transport (medians quoted)");
  parser.add_flag("--json", &options.json, "print one JSON document instead of tables");
  parser.add_flag("--quick", &options.quick, "smoke test: 64 B and 4 KiB, 20000 records, 1 pass");
  if (!parser.parse(argc, argv)) return false;
  if (options.quick) {
    if (!parser.was_given("--sizes")) size_texts = {"64", "4096"};
    if (!parser.was_given("--records")) options.records = 20'000;
    if (!parser.was_given("--repeat")) options.repeat = 1;
  }
  options.record_sizes.clear();
  for (const std::string& text : size_texts) {
    const auto size = parse_byte_size(text);
    if (!size) throw SetupError("--sizes: cannot use '" + text + "'");
    options.record_sizes.push_back(*size);
  }
  if (!parser.was_given("--transports")) {
    for (const Transport& transport : transports()) options.transports.emplace_back(transport.name);
  }
  if (options.transports.empty()) {
    throw SetupError("--transports is empty (known: " + known_transports() + ")");
  }
  if (options.baseline.empty()) options.baseline = options.transports.front();
  check(options);
  return true;
}

std::uint64_t records_for_size(const ThroughputOptions& options, std::uint64_t record_bytes) {
  if (options.records != 0) return options.records;
  constexpr std::uint64_t kBytesPerPass = 2'000'000'000;
  return std::clamp<std::uint64_t>(kBytesPerPass / record_bytes, 2'000, 2'000'000);
}

}  // namespace ringfile::bench::throughput
