// `spsc_queue`: boost::lockfree::spsc_queue between two threads of one process, the in-process
// lower bound. Records live in a preallocated pool of queue_depth slots; one queue carries filled
// slot indices to the consumer, another returns free ones, so the bytes are copied in once by the
// producer and out once by the consumer, as with message_queue.
#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <memory>
#include <thread>
#include <vector>

#include "support/cpu_pinning.hpp"
#include "support/source_buffer.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

namespace {

using SlotQueue = boost::lockfree::spsc_queue<std::uint32_t>;

constexpr std::size_t kCacheLineBytes = 64;

struct alignas(kCacheLineBytes) CacheLine {
  std::byte bytes[kCacheLineBytes];
};

// Slots on their own cache lines, so the producer filling one does not disturb the consumer
// reading its neighbour.
std::size_t slot_stride(std::size_t record_bytes) {
  return (record_bytes + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
}

PassResult run_spsc_queue(const PassConfig& config) {
  const std::size_t stride = slot_stride(config.record_bytes);
  const auto pool = std::make_unique<CacheLine[]>(stride / kCacheLineBytes * config.queue_depth);
  std::byte* const slots = reinterpret_cast<std::byte*>(pool.get());
  // Capacity queue_depth each: a slot index is in at most one of them, so a push never fails.
  SlotQueue filled_slots(config.queue_depth);
  SlotQueue free_slots(config.queue_depth);
  for (std::size_t slot = 0; slot < config.queue_depth; ++slot) {
    free_slots.push(static_cast<std::uint32_t>(slot));
  }
  std::atomic<bool> producer_pinned{true};
  std::atomic<bool> consumer_pinned{true};

  std::thread producer([&] {
    // @pre the only thread that pops free_slots and pushes filled_slots.
    producer_pinned.store(pin_current_thread(config.producer_cpu), std::memory_order_relaxed);
    const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
    const std::span<std::byte> record = source.bytes();
    fill_record(record);
    RecordStamper stamper(config);
    for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
      std::uint32_t slot = 0;
      while (!free_slots.pop(slot)) cpu_relax();
      const std::span<std::byte> destination(slots + slot * stride, config.record_bytes);
      std::memcpy(destination.data(), record.data(), record.size());
      stamper.stamp(destination, sequence);
      filled_slots.push(slot);
    }
  });

  ReceiveLog log(config);
  std::thread consumer([&] {
    // @pre the only thread that pops filled_slots and pushes free_slots.
    consumer_pinned.store(pin_current_thread(config.consumer_cpu), std::memory_order_relaxed);
    std::vector<std::byte> record(config.record_bytes);
    for (std::uint64_t index = 0; index < config.records; ++index) {
      std::uint32_t slot = 0;
      while (!filled_slots.pop(slot)) cpu_relax();
      std::memcpy(record.data(), slots + slot * stride, record.size());
      free_slots.push(slot);
      log.on_record(record);
    }
  });
  producer.join();
  consumer.join();
  PassResult result = std::move(log).finish();
  // relaxed: join() above already ordered the threads' stores before these loads.
  if (!producer_pinned.load(std::memory_order_relaxed) ||
      !consumer_pinned.load(std::memory_order_relaxed)) {
    result.error = "cannot pin to the requested CPUs";
  }
  return result;
}

}  // namespace

const Transport kSpscQueueTransport{
    .name = "spsc_queue",
    .summary = "boost::lockfree::spsc_queue of slot indices into a record pool, two threads",
    .run = run_spsc_queue,
};

}  // namespace ringfile::bench::throughput
