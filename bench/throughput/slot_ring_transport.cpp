// `slot_ring`: the ceiling. A fixed-slot single-producer single-consumer ring in shared
// memory between two busy-spinning processes, as lean as such a queue gets: slots of exactly the
// record size, kSharedBufferBytes of them in all (rounded down to a power of two of slots, so an
// index maps to its slot with a mask), the producer's and the consumer's positions on cache lines
// of their own, and each side keeping a private copy of the other's position that it refreshes
// only when that copy says the ring is full (producer) or empty (consumer), so most records touch
// no line the other side writes. Zero copy like ringfile: the producer copies the record into its
// slot and stamps it there, the consumer hands ReceiveLog the record where it lies. With several
// consumers (--consumers) each has a position of its own and reads every record; the producer
// waits for the slowest (a broadcast ring, the ceiling for ringfile's fan-out).
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "ringfile/programs/command_line.hpp"
#include "throughput/fan_out.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

constexpr std::size_t kCacheLineBytes = 64;
// The consumer publishes its position after this many records of a batch, and at the batch's
// end, so the producer sees room early on a full ring without one shared write per record.
constexpr std::uint64_t kConsumerPublishEvery = 64;

// At the start of the mapping; the slots follow.
struct SlotRingPositions {
  // Records written so far. Stored by the producer only (release, after the record's bytes),
  // loaded by the consumer (acquire, before reading them).
  alignas(kCacheLineBytes) std::atomic<std::uint64_t> written{0};
  // Records read so far by each consumer. Stored by that consumer only (release, after it
  // finished reading the slots), loaded by the producer (acquire, before overwriting them).
  struct alignas(kCacheLineBytes) ReadPosition {
    std::atomic<std::uint64_t> value{0};
  };
  ReadPosition read[kMostConsumers];
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "positions are shared between processes: they must be lock-free atomics");
static_assert(sizeof(SlotRingPositions) == (1 + kMostConsumers) * kCacheLineBytes,
              "each position on a cache line of its own");

struct SlotRingShape {
  std::size_t record_bytes;
  std::uint64_t slot_count;  // a power of two
  std::byte* slots;

  std::span<std::byte> slot(std::uint64_t position) const noexcept {
    return {slots + (position & (slot_count - 1)) * record_bytes, record_bytes};
  }
};

bool produce(const PassConfig& config, SlotRingPositions& positions, const SlotRingShape& ring) {
  std::vector<std::byte> record(config.record_bytes);
  fill_record(record);
  RecordStamper stamper(config);
  std::uint64_t read_cached = 0;  // the slowest consumer's position as last loaded
  SpinGuard guard;
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    while (sequence - read_cached == ring.slot_count) {
      read_cached = sequence;
      for (std::uint32_t consumer = 0; consumer < config.consumers; ++consumer) {
        // acquire: pairs with the consumer's release store of its `read`, so its reads of these
        // slots are finished before the copy below overwrites them.
        read_cached = std::min(read_cached, positions.read[consumer].value.load(std::memory_order_acquire));
      }
      if (sequence - read_cached < ring.slot_count) break;
      if (!guard.keep_spinning()) return false;
    }
    guard.reset();
    const std::span<std::byte> slot = ring.slot(sequence);
    std::memcpy(slot.data(), record.data(), record.size());
    stamper.stamp(slot, sequence);
    // release: pairs with the consumer's acquire load of `written`; the bytes above come first.
    positions.written.store(sequence + 1, std::memory_order_release);
  }
  return true;
}

// Consumer `index` (0 to config.consumers - 1).
PassResult consume(const PassConfig& config, SlotRingPositions& positions, const SlotRingShape& ring,
                   std::uint32_t index) {
  std::atomic<std::uint64_t>& read = positions.read[index].value;
  ReceiveLog log(config.records);
  std::uint64_t next = 0;
  std::uint64_t written_cached = 0;  // the producer's position as last loaded
  SpinGuard guard;
  while (next < config.records) {
    if (next == written_cached) {
      // acquire: pairs with the producer's release store of `written`: the records below it
      // are complete.
      written_cached = positions.written.load(std::memory_order_acquire);
      if (next == written_cached) {
        if (!guard.keep_spinning()) return std::move(log).producer_gone();
        // Consumers that share a CPU (--consumers) let the one with records to read run.
        if (config.consumers > 1) sched_yield();
        continue;
      }
      guard.reset();
    }
    while (next < written_cached) {
      log.on_record(ring.slot(next));
      ++next;
      if (next % kConsumerPublishEvery == 0) {
        // release: pairs with the producer's acquire load of `read`; reading the slots comes
        // first.
        read.store(next, std::memory_order_release);
      }
    }
    read.store(next, std::memory_order_release);  // as above
  }
  return std::move(log).finish();
}

PassResult run_slot_ring(const PassConfig& config) {
  try {
    const std::uint64_t slot_count =
        std::bit_floor(kSharedBufferBytes / std::max<std::size_t>(config.record_bytes, 1));
    if (slot_count < 2) throw programs::RuntimeFailure("slot_ring: records too large for the shared buffer");
    const system::SharedMemory mapping(sizeof(SlotRingPositions) + slot_count * config.record_bytes, "the slot ring");
    auto* const positions = new (mapping.data()) SlotRingPositions;
    const SlotRingShape ring{config.record_bytes, slot_count,
                             mapping.data() + sizeof(SlotRingPositions)};
    ExtraConsumers others(config, [&](std::uint32_t index, const std::function<void()>& attached) {
      attached();  // its position starts at 0 with the others': the producer waits for it
      return consume(config, *positions, ring, index);
    });
    PassResult result = run_in_two_processes(
        config, [&] { return produce(config, *positions, ring); },
        [&] { return consume(config, *positions, ring, 0); });
    others.merge_into(result, !result.error.empty());
    return result;
  } catch (const std::exception& failure) {
    PassResult failed;
    failed.error = std::string("slot_ring: ") + failure.what();
    return failed;
  }
}

}  // namespace

const Transport kSlotRingTransport{
    "slot_ring",
    "the ceiling: fixed-slot SPSC ring in shared memory, cached opposite positions, "
    "zero copy, two busy processes, 64 MiB",
    run_slot_ring,
    true,
};

}  // namespace ringfile::bench::throughput
