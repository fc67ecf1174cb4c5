// The ways of passing records from one producer to one consumer (or to several, where a transport
// fans out) that the throughput benchmark compares, behind one interface, and their list.
//
// Adding a transport takes one new .cpp file in this folder: a function
// `PassResult run_<name>(const PassConfig&)` that sets up the producer and consumer (threads or
// processes), pins them, passes config.records records stamped with RecordStamper and hands each
// received record to ReceiveLog; then its `const Transport k<Name>Transport{...}` declared below,
// placed in the list (transports.cpp) and the file listed in throughput/CMakeLists.txt.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::bench::throughput {

struct PassConfig {
  std::size_t record_bytes = 0;
  std::uint64_t records = 0;
  std::size_t queue_depth = 0;  // records in flight at most (the queue's capacity)
  int producer_cpu = 0;
  int consumer_cpu = 1;
  std::uint64_t send_interval_ns = 0;  // 0: send as fast as the transport takes them
  std::uint32_t consumers = 1;  // each record goes to every one of them (Transport::fans_out)
  std::uint32_t producers = 1;  // `records` in all, split between them (Transport::fans_in)
  // Both sides read the clock for every clock_every-th record of a producer only (and its last);
  // the latencies are those records'. See --clock-every.
  std::uint64_t clock_every = 1;
};

// The records producer `index` of config.producers sends: an even share, the first ones one more
// where `records` does not divide.
inline std::uint64_t records_of_producer(const PassConfig& config, std::uint32_t index) {
  return config.records / config.producers + (index < config.records % config.producers ? 1 : 0);
}

struct PassResult {
  std::string error;  // empty: every record arrived
  std::uint64_t records_received = 0;
  std::uint64_t sequence_errors = 0;        // records out of order or missing
  double seconds = 0;                       // first record's send stamp to last record's arrival
  std::uint64_t first_send_ns = 0;          // CLOCK_MONOTONIC: the earliest send stamp received,
  std::uint64_t last_send_ns = 0;           // the latest, and the last arrival (kept for merging
  std::uint64_t last_arrival_ns = 0;        // several consumers' results)
  std::vector<std::uint64_t> latencies_ns;  // arrival minus send stamp, one per timed record
};

struct Transport {
  std::string_view name;
  std::string_view summary;
  // Runs one pass. Never throws: failures land in PassResult::error.
  PassResult (*run)(const PassConfig& config);
  // Can pass each record to PassConfig::consumers consumers (--consumers), each reading all.
  bool fans_out = false;
  // Can take records from PassConfig::producers producers (--producers) to one consumer.
  bool fans_in = false;
};

// The most consumers --consumers takes, and producers --producers.
inline constexpr std::uint32_t kMostConsumers = 8;
inline constexpr std::uint32_t kMostProducers = 8;

// Every transport, in the default order of --transports (so the first is the default
// --baseline); --transports picks and orders them.
std::span<const Transport> transports();
const Transport* find_transport(std::string_view name);

// One per transport file.
extern const Transport kSlotRingTransport;
extern const Transport kSlotRingFramedTransport;
extern const Transport kMessageQueueTransport;
extern const Transport kSpscQueueTransport;
extern const Transport kSpscQueueShmTransport;
extern const Transport kUnixSocketTransport;
extern const Transport kRingfileTransport;
extern const Transport kRingfileNocrcTransport;
extern const Transport kRingfileWriteTransport;
extern const Transport kRingfileWriteNocrcTransport;
extern const Transport kRingfileBatchTransport;
extern const Transport kRingfileBatchNocrcTransport;
extern const Transport kMemcpyLoopTransport;
#ifdef RINGFILE_BENCH_ICEORYX
extern const Transport kIceoryxTransport;
#endif

}  // namespace ringfile::bench::throughput
