#include "throughput/two_processes.hpp"

#include <exception>
#include <string>

#include "support/forked_pair.hpp"

namespace ringfile::bench::throughput {

PassResult run_in_two_processes(const PassConfig& config, const std::function<bool()>& producer,
                                const std::function<PassResult()>& consumer) {
  PassResult result;
  const auto consume = [&] {
    try {
      result = consumer();
    } catch (const std::exception& failure) {
      result.error = failure.what();
    }
    return result.error.empty();
  };
  const std::string pair_error = run_forked_pair({"producer", config.producer_cpu, producer},
                                                 {"consumer", config.consumer_cpu, consume});
  if (result.error.empty()) result.error = pair_error;
  return result;
}

}  // namespace ringfile::bench::throughput
