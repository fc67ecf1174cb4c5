// One producer, several consumers (--consumers N): the consumers beyond the first, each a forked
// process pinned to the consumer CPU that reads every record into a ReceiveLog of its own, and
// the merge of their results with the first consumer's.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "support/forked_pair.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

class ExtraConsumers {
 public:
  // Runs `consume(index, attached)` in each of config.consumers - 1 forked processes (index 1 to
  // N - 1); `consume` calls `attached()` once it is in place to receive the first record, and
  // returns what it received. Returns once every one has called it (or has ended). Forks
  // nothing for one consumer. The processes that merge_into() did not wait for are killed.
  using Consume = std::function<PassResult(std::uint32_t index, const std::function<void()>& attached)>;
  ExtraConsumers(const PassConfig& config, const Consume& consume);

  // Waits for every extra consumer and merges its result into `first`, the calling process's
  // consumer's: the fewest records received, the sequence errors summed, the time from the
  // earliest send stamp to the latest arrival, the first error. Latencies stay the first's.
  // With `kill` (the first consumer failed), stops them instead.
  void merge_into(PassResult& first, bool kill = false);

 private:
  std::vector<std::unique_ptr<ReportingChild>> children_;
  std::string start_error_;
};

}  // namespace ringfile::bench::throughput
