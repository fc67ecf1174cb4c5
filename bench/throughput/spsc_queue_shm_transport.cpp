// `spsc_queue_shm`: boost::lockfree::spsc_queue in shared memory between two busy-spinning
// processes, kSharedBufferBytes of storage and nothing else capping the records in flight. The
// queue holds bytes: the producer pushes each record (its bulk push copies it in, looping if the
// queue has room for part of it only) and the consumer pops exactly one record's bytes at a time
// into its own buffer, so each record is copied in and out, as that queue's interface requires.
#include <boost/lockfree/policies.hpp>
#include <boost/lockfree/spsc_queue.hpp>
#include <new>
#include <string>
#include <vector>

#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"
#include "support/source_buffer.hpp"

namespace ringfile::bench::throughput {

namespace {

// Storage inside the object (compile-time capacity), so the whole queue lives in the mapping and
// holds no pointer that would differ between the processes.
using ByteQueue =
    boost::lockfree::spsc_queue<std::byte, boost::lockfree::capacity<kSharedBufferBytes>>;

bool produce(const PassConfig& config, ByteQueue& queue) {
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config);
  SpinGuard guard;
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    stamper.stamp(record, sequence);
    std::size_t pushed = 0;
    while (pushed < record.size()) {
      const std::size_t now = queue.push(record.data() + pushed, record.size() - pushed);
      pushed += now;
      if (now != 0) {
        guard.reset();
      } else if (!guard.keep_spinning()) {
        return false;
      }
    }
  }
  return true;
}

PassResult consume(const PassConfig& config, ByteQueue& queue) {
  ReceiveLog log(config);
  std::vector<std::byte> record(config.record_bytes);
  SpinGuard guard;
  for (std::uint64_t index = 0; index < config.records; ++index) {
    std::size_t popped = 0;
    while (popped < record.size()) {
      const std::size_t now = queue.pop(record.data() + popped, record.size() - popped);
      popped += now;
      if (now != 0) {
        guard.reset();
      } else if (!guard.keep_spinning()) {
        return std::move(log).producer_gone();
      }
    }
    log.on_record(record);
  }
  return std::move(log).finish();
}

PassResult run_shared_spsc_queue(const PassConfig& config) {
  try {
    const system::SharedMemory mapping(sizeof(ByteQueue), "the shared spsc_queue");
    auto* const queue = new (mapping.data()) ByteQueue;
    return run_in_two_processes(
        config,
        [&] {
          mapping.fill_page_tables();  // the forked producer has none of them
          return produce(config, *queue);
        },
        [&] { return consume(config, *queue); });
  } catch (const std::exception& failure) {
    PassResult failed;
    failed.error = std::string("spsc_queue_shm: ") + failure.what();
    return failed;
  }
}

}  // namespace

const Transport kSpscQueueShmTransport{
    .name = "spsc_queue_shm",
    .summary =
        "boost::lockfree::spsc_queue of bytes in shared memory, 64 MiB, two busy processes, "
        "copy in and out",
    .run = run_shared_spsc_queue,
};

}  // namespace ringfile::bench::throughput
