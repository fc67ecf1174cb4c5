// Summaries the reports quote: latency percentiles and the median of repeated runs.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace ringfile::bench {

struct LatencyPercentiles {
  double p50_ns = 0;
  double p99_ns = 0;
  double p999_ns = 0;
  double max_ns = 0;
};

// Sorts `samples` in place (they are the run's own scratch buffer). Nearest-rank percentiles.
LatencyPercentiles latency_percentiles(std::vector<std::uint64_t>& samples);

// Median of a few repeated measurements; 0 for none.
double median(std::vector<double> values);

// a / b, or 0 when b is 0 (a ratio against a run that measured nothing is not a number to print).
double ratio(double numerator, double denominator) noexcept;

}  // namespace ringfile::bench
