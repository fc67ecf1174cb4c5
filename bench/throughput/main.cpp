// ringfile-bench-throughput: one producer, one consumer (or several of either: --producers,
// --consumers), records of a few sizes, through each transport in the same run. See bench/README.md.

#include <cstdio>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/clock.hpp"
#include "support/cpu_pinning.hpp"
#include "support/machine_info.hpp"
#include "throughput/throughput_options.hpp"
#include "throughput/throughput_report.hpp"
#include "throughput/transports.hpp"

namespace {

using namespace ringfile::bench;
using namespace ringfile::bench::throughput;

PassSummary summarise(PassResult result, const PassConfig& config) {
  PassSummary summary;
  summary.error = result.error;
  summary.sequence_errors = result.sequence_errors;
  if (summary.error.empty() && result.records_received != config.records) {
    summary.error = std::to_string(result.records_received) + " of " +
                    std::to_string(config.records) + " records arrived";
  }
  if (result.seconds > 0) {
    summary.records_per_second = static_cast<double>(result.records_received) / result.seconds;
    summary.bytes_per_second =
        summary.records_per_second * static_cast<double>(config.record_bytes);
  }
  if (result.last_send_ns > result.first_send_ns) {
    summary.sent_per_second = static_cast<double>(result.records_received) /
                              ringfile::system::seconds_between(result.first_send_ns, result.last_send_ns);
  }
  summary.latency = latency_percentiles(result.latencies_ns);
  return summary;
}

int run(int argc, char** argv) {
  ThroughputOptions options;
  if (const auto exit_code = parse_throughput_options(argc, argv, options)) return *exit_code;
  ThroughputRunDescription description{options, RunMachine::at_start()};
  std::vector<SizeRuns> sizes;
  bool any_failed = false;
  for (const std::uint64_t record_bytes : options.record_sizes) {
    SizeRuns size{record_bytes, records_for_size(options, record_bytes), {}};
    for (const std::string& name : options.transports) size.transports.push_back({name, {}});
    // Passes alternate between transports, so a noisy minute on this shared machine hurts
    // every transport alike instead of one.
    for (std::uint64_t pass = 0; pass < options.repeat; ++pass) {
      for (TransportRuns& runs : size.transports) {
        const PassConfig config{record_bytes,         size.records,
                                options.queue_depth,  options.producer_cpu,
                                options.consumer_cpu, options.send_interval_ns,
                                options.consumers,    options.producers,
                                options.clock_every};
        std::fprintf(stderr, "%s, %llu B, pass %llu ...\n", runs.transport.c_str(),
                     static_cast<unsigned long long>(record_bytes),
                     static_cast<unsigned long long>(pass + 1));
        runs.passes.push_back(summarise(find_transport(runs.transport)->run(config), config));
        any_failed = any_failed || !runs.passes.back().error.empty() ||
                     runs.passes.back().sequence_errors != 0;
      }
    }
    sizes.push_back(std::move(size));
  }
  description.machine.finish();
  const std::string report =
      options.json ? json_report(description, sizes) : text_report(description, sizes);
  std::fputs(report.c_str(), stdout);
  return any_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bench-throughput", [&] { return run(argc, argv); });
}
