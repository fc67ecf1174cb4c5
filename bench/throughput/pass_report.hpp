// A pass's result sent from the process that ran it to its parent (support/forked_pair.hpp's
// ChildReport): the counts, the send and arrival times, the error and the latencies.
#pragma once

#include <bit>
#include <utility>

#include "support/forked_pair.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

// The seconds travel by their bits.
inline ChildReport report_of(const PassResult& result) {
  return {{result.records_received, result.sequence_errors, std::bit_cast<std::uint64_t>(result.seconds),
           result.first_send_ns, result.last_send_ns, result.last_arrival_ns},
          result.error,
          result.latencies_ns};
}

inline PassResult result_of(ChildReport report) {
  PassResult result;
  if (report.counts.size() != 6) {
    result.error = "the pass's process sent a result of another form";
    return result;
  }
  result.records_received = report.counts[0];
  result.sequence_errors = report.counts[1];
  result.seconds = std::bit_cast<double>(report.counts[2]);
  result.first_send_ns = report.counts[3];
  result.last_send_ns = report.counts[4];
  result.last_arrival_ns = report.counts[5];
  result.error = std::move(report.text);
  result.latencies_ns = std::move(report.samples);
  return result;
}

}  // namespace ringfile::bench::throughput
