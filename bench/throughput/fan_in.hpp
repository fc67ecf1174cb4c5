// Several producers, one consumer (--producers N): the producers beyond the first, each a forked
// process pinned to the producer CPU that sends its share of the records (records_of_producer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

class ExtraProducers {
 public:
  // Runs `produce(index)` in each of config.producers - 1 forked processes (index 1 to N - 1);
  // true: it sent all its records. Forks nothing for one producer.
  ExtraProducers(const PassConfig& config, const std::function<bool(std::uint32_t index)>& produce);
  ~ExtraProducers();  // kills and waits for the processes finish() did not wait for
  ExtraProducers(const ExtraProducers&) = delete;
  ExtraProducers& operator=(const ExtraProducers&) = delete;

  // Waits for every extra producer (killing them first with `kill`: the consumer failed). Returns
  // an empty string, or what failed.
  std::string finish(bool kill = false);

 private:
  std::vector<pid_t> children_;
  std::string start_error_;
};

}  // namespace ringfile::bench::throughput
