#include "throughput/throughput_options.hpp"

#include <algorithm>
#include <cstdio>

#include "ringfile/programs/command_line.hpp"
#include "support/cpu_pinning.hpp"
#include "support/named_entries.hpp"
#include "support/roudi_process.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

namespace {

std::string known_transports() { return names_of(transports()); }

// The transports that fan out (or, with `fan_in`, in).
std::string transports_that(bool fan_in) {
  std::string names;
  for (const Transport& transport : transports()) {
    if (!(fan_in ? transport.fans_in : transport.fans_out)) continue;
    if (!names.empty()) names += ", ";
    names += transport.name;
  }
  return names;
}

bool takes(const Transport& transport, const ThroughputOptions& options) {
  return (options.consumers == 1 || transport.fans_out) && (options.producers == 1 || transport.fans_in);
}

void check(const ThroughputOptions& options) {
  for (const std::uint64_t size : options.record_sizes) {
    if (size < kCompactRecordHeaderBytes) {
      throw programs::UsageError("record sizes must be at least " +
                       std::to_string(kCompactRecordHeaderBytes) +
                       " bytes (sequence and send stamp)");
    }
  }
  for (const std::string& name : options.transports) {
    if (name == "iceoryx" && iceoryx_unavailable() != nullptr) {
      throw programs::UsageError(std::string("no iceoryx transport here: ") + iceoryx_unavailable());
    }
    if (find_transport(name) == nullptr) {
      throw programs::UsageError("unknown transport '" + name + "' (known: " + known_transports() + ")");
    }
    if (options.consumers > 1 && !find_transport(name)->fans_out) {
      throw programs::UsageError("transport '" + name + "' has one consumer only; --consumers " +
                                 std::to_string(options.consumers) + " takes: " + transports_that(false));
    }
    if (options.producers > 1 && !find_transport(name)->fans_in) {
      throw programs::UsageError("transport '" + name + "' has one producer only; --producers " +
                                 std::to_string(options.producers) + " takes: " + transports_that(true));
    }
  }
  if (options.producers > 1 && options.consumers > 1) {
    throw programs::UsageError("--producers and --consumers: one of them above 1 at a time");
  }
  for (const std::uint64_t size : options.record_sizes) {
    if (options.producers > 1 && size < kRecordHeaderBytes) {
      throw programs::UsageError("with --producers, record sizes must be at least " + std::to_string(kRecordHeaderBytes) +
                                 " bytes (the producer's index rides in the sequence number)");
    }
  }
  if (find_transport(options.baseline) == nullptr) {
    throw programs::UsageError("unknown --baseline transport '" + options.baseline + "'");
  }
  if (options.queue_depth == 0 || options.queue_depth > (1u << 20)) {
    throw programs::UsageError("--queue-depth must be 1..1048576");
  }
  if (options.repeat == 0) throw programs::UsageError("--repeat must be at least 1");
  const int cpus = online_cpu_count();
  if (options.producer_cpu < 0 || options.producer_cpu >= cpus || options.consumer_cpu < 0 ||
      options.consumer_cpu >= cpus) {
    throw programs::UsageError("--producer-cpu and --consumer-cpu must be 0.." + std::to_string(cpus - 1));
  }
}

}  // namespace

std::optional<int> parse_throughput_options(int argc, char** argv, ThroughputOptions& options) {
  CLI::App app(
      "Passes records from one producer to one consumer through each transport, pinned to two\n"
      "CPUs, and reports records/s, bytes/s and one-way latency percentiles (from a\n"
      "CLOCK_MONOTONIC stamp in each record), with ratios against a baseline of the same run.\n"
      "Latency is measured under full load unless --interval-ns paces the producer, so it\n"
      "includes time spent queued (up to --queue-depth records, or 64 MiB of them).\n"
      "Transports: " +
          known_transports(),
      "ringfile-bench-throughput");
  const CLI::Option* sizes = programs::add_size_list_option(app, "--sizes", options.record_sizes,
                                                            "record sizes, e.g. 64,4K,625000")
                                 ->default_str("64,4K,625000");
  const CLI::Option* records = programs::add_count_option(app, "--records", options.records,
                                                          "records per pass (0: ~2 GB, 2000..2000000)")
                                   ->default_str("0");
  const CLI::Option* transport_list = app.add_option("--transports", options.transports,
                                                     "transports to run, in this order (default: every transport)")
                                          ->delimiter(',');
  app.add_option("--baseline", options.baseline,
                 "transport the others are compared with (default: the first of --transports)");
  programs::add_count_option(app, "--queue-depth", options.queue_depth, "records in flight at most")->default_str("64");
  app.add_option("--producer-cpu", options.producer_cpu, "CPU the producer is pinned to")->capture_default_str();
  app.add_option("--consumer-cpu", options.consumer_cpu, "CPU the consumer is pinned to")->capture_default_str();
  programs::add_count_option(app, "--interval-ns", options.send_interval_ns,
                             "pace the producer: one record every this many ns (0: flat out)")
      ->default_str("0");
  programs::add_count_option(app, "--clock-every", options.clock_every,
                             "read the clock for every N-th record of a producer only, both sides (and for the "
                             "last): records/s without two clock readings a record hiding the transports' own "
                             "cost; latencies are those records'")
      ->default_str("1")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 20));
  const CLI::Option* repeat = programs::add_count_option(app, "--repeat", options.repeat,
                                                         "passes per size and transport (medians quoted)")
                                  ->default_str("3");
  app.add_option("--consumers", options.consumers,
                 "consumers, each reading every record, all pinned to --consumer-cpu (transports that fan out: " +
                     transports_that(false) + ")")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, kMostConsumers));
  app.add_option("--producers", options.producers,
                 "producers, the records split between them, all pinned to --producer-cpu, into one consumer "
                 "(transports that fan in: " +
                     transports_that(true) + ")")
      ->capture_default_str()
      ->check(CLI::Range(std::uint32_t{1}, kMostProducers));
  app.add_flag("--json", options.json, "print one JSON document instead of tables");
  app.add_flag("--quick", options.quick, "smoke test: 64 B and 4 KiB, 20000 records, 1 pass");
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return exit_code;
  if (options.quick) {
    if (sizes->count() == 0) options.record_sizes = {64, 4096};
    if (records->count() == 0) options.records = 20'000;
    if (repeat->count() == 0) options.repeat = 1;
  }
  if (transport_list->count() == 0) {
    for (const Transport& transport : transports()) {
      if (takes(transport, options)) options.transports.emplace_back(transport.name);
    }
    if (const char* why = iceoryx_unavailable()) std::fprintf(stderr, "iceoryx skipped: %s\n", why);
  }
  if (options.transports.empty()) {
    throw programs::UsageError("--transports is empty (known: " + known_transports() + ")");
  }
  if (options.baseline.empty()) options.baseline = options.transports.front();
  check(options);
  return std::nullopt;
}

std::uint64_t records_for_size(const ThroughputOptions& options, std::uint64_t record_bytes) {
  if (options.records != 0) return options.records;
  constexpr std::uint64_t kBytesPerPass = 2'000'000'000;
  return std::clamp<std::uint64_t>(kBytesPerPass / record_bytes, 2'000, 2'000'000);
}

}  // namespace ringfile::bench::throughput
