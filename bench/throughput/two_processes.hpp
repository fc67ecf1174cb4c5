// What the shared-memory and socket transports have in common: the buffer bytes, and a forked
// producer process with a consumer on the calling thread, each pinned.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "ringfile/system/shared_memory.hpp"
#include "support/spin_wait.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

// Buffer bytes of every transport between processes that has a buffer to size (the ring file's
// capacity, the shared-memory queues' storage), so that none holds more records in flight.
inline constexpr std::size_t kSharedBufferBytes = std::size_t{64} << 20;

// Forks; the child pins itself to config.producer_cpu and runs `producer` (true: every record
// sent), the calling thread pins itself to config.consumer_cpu and runs `consumer`, then waits for
// the child. The result is the consumer's, with an error added when the producer failed or either
// side could not be pinned. The producer is killed when the consumer fails. Never throws.
PassResult run_in_two_processes(const PassConfig& config, const std::function<bool()>& producer,
                                const std::function<PassResult()>& consumer);

}  // namespace ringfile::bench::throughput
