// The throughput benchmark's output: per record size, each transport's medians over its passes,
// with ratios against the baseline transport; or the same as one JSON document.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "support/machine_info.hpp"
#include "support/statistics.hpp"
#include "throughput/throughput_options.hpp"

namespace ringfile::bench::throughput {

struct PassSummary {
  double records_per_second = 0;  // from the first record's send to the last one's arrival
  // The producers' pace: from the first record's send to the last one's. Above records_per_second
  // where records queued up; a transport that holds its producer back brings the two together.
  double sent_per_second = 0;
  double bytes_per_second = 0;
  LatencyPercentiles latency;
  std::uint64_t sequence_errors = 0;
  std::string error;
};

struct TransportRuns {
  std::string transport;
  std::vector<PassSummary> passes;
};

struct SizeRuns {
  std::uint64_t record_bytes = 0;
  std::uint64_t records = 0;
  std::vector<TransportRuns> transports;
};

struct ThroughputRunDescription {
  const ThroughputOptions& options;
  RunMachine machine;  // a third busy process on 2 CPUs shows in every figure
};

std::string text_report(const ThroughputRunDescription& run, const std::vector<SizeRuns>& sizes);
std::string json_report(const ThroughputRunDescription& run, const std::vector<SizeRuns>& sizes);

}  // namespace ringfile::bench::throughput
