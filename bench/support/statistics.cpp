#include "support/statistics.hpp"

#include <algorithm>
#include <cmath>

namespace ringfile::bench {

namespace {

double nearest_rank(const std::vector<std::uint64_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const double rank = std::ceil(fraction * static_cast<double>(sorted.size()));
  const std::size_t index = rank < 1 ? 0 : static_cast<std::size_t>(rank) - 1;
  return static_cast<double>(sorted[std::min(index, sorted.size() - 1)]);
}

}  // namespace

LatencyPercentiles latency_percentiles(std::vector<std::uint64_t>& samples) {
  std::sort(samples.begin(), samples.end());
  LatencyPercentiles percentiles;
  percentiles.p50_ns = nearest_rank(samples, 0.50);
  percentiles.p99_ns = nearest_rank(samples, 0.99);
  percentiles.p999_ns = nearest_rank(samples, 0.999);
  percentiles.max_ns = samples.empty() ? 0 : static_cast<double>(samples.back());
  return percentiles;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

double ratio(double numerator, double denominator) noexcept {
  return denominator != 0 ? numerator / denominator : 0;
}

}  // namespace ringfile::bench
