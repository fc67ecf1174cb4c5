// `slot_ring`: the ceiling. A fixed-slot single-producer single-consumer ring in shared
// memory between two busy-spinning processes, as lean as such a queue gets: slots of exactly the
// record size, kSharedBufferBytes of them in all (rounded down to a power of two of slots, so an
// index maps to its slot with a mask), the producer's and the consumer's positions on cache lines
// of their own, and each side keeping a private copy of the other's position that it refreshes
// only when that copy says the ring is full (producer) or empty (consumer), so most records touch
// no line the other side writes. Zero copy like ringfile: the producer copies the record into its
// slot and stamps it there, the consumer hands ReceiveLog the record where it lies. With several
// consumers (--consumers) each has a position of its own and reads every record; the producer
// waits for the slowest (a broadcast ring, the ceiling for ringfile's fan-out). With several
// producers (--producers) each has a ring of its own (a lane: the buffer split between them) and
// the one consumer reads the lanes in turn, as many records of each as are there.
//
// `slot_ring_framed`: the same ring with slots the size of the frame ringfile gives the record
// (its 40-byte header, then the payload, rounded up to 8 bytes), the header's five words written
// by the producer and loaded by the consumer. What the frame's bytes cost with no other work: at
// 64 B a record is 104 bytes, 1.6 cache lines to cross between the cores against the slot ring's 1.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "ringfile/format/record_header.hpp"
#include "ringfile/programs/program.hpp"
#include "support/slot_ring_positions.hpp"
#include "support/source_buffer.hpp"
#include "throughput/fan_in.hpp"
#include "throughput/fan_out.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

// The consumer publishes its position after this many records of a batch, and at the batch's
// end, so the producer sees room early on a full ring without one shared write per record.
constexpr std::uint64_t kConsumerPublishEvery = 64;

// At the start of each lane's memory; the slots follow. Every consumer reads every record.
using Positions = SlotRingPositions<kMostConsumers>;

struct SlotRingShape {
  std::size_t record_bytes;
  std::size_t header_bytes;  // before each record in its slot (slot_ring_framed), or 0
  std::size_t slot_bytes;    // header_bytes + record_bytes, rounded up as a ringfile frame is
  std::uint64_t slot_count;  // a power of two
  std::byte* slots;

  std::byte* slot_start(std::uint64_t position) const noexcept {
    return slots + (position & (slot_count - 1)) * slot_bytes;
  }
  std::span<std::byte> record(std::uint64_t position) const noexcept {
    return {slot_start(position) + header_bytes, record_bytes};
  }
};

// The header words a framed slot carries, as many as ringfile's record header has.
constexpr std::size_t kHeaderWords = format::kRecordHeaderBytes / sizeof(std::uint64_t);

SlotRingShape slot_ring_shape(const PassConfig& config, bool framed) {
  SlotRingShape shape{};
  shape.record_bytes = config.record_bytes;
  shape.header_bytes = framed ? format::kRecordHeaderBytes : 0;
  shape.slot_bytes = framed ? format::frame_stride(format::kRecordHeaderBytes + config.record_bytes)
                            : std::max<std::size_t>(config.record_bytes, 1);
  shape.slot_count = std::bit_floor(kSharedBufferBytes / config.producers / shape.slot_bytes);
  return shape;
}

// A producer's ring: its positions, then its slots.
struct Lane {
  Positions* positions;
  SlotRingShape ring;
};

// Producer `index` of config.producers, into its lane.
bool produce(const PassConfig& config, const Lane& lane, std::uint32_t index) {
  Positions& positions = *lane.positions;
  const SlotRingShape& ring = lane.ring;
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config, index);
  const std::uint64_t records = records_of_producer(config, index);
  std::uint64_t read_cached = 0;  // the slowest consumer's position as last loaded
  SpinGuard guard;
  for (std::uint64_t sequence = 0; sequence < records; ++sequence) {
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
    if (ring.header_bytes != 0) {
      std::uint64_t header[kHeaderWords];
      for (std::size_t word = 0; word < kHeaderWords; ++word) header[word] = sequence + word;
      std::memcpy(ring.slot_start(sequence), header, sizeof(header));
    }
    const std::span<std::byte> slot = ring.record(sequence);
    std::memcpy(slot.data(), record.data(), record.size());
    stamper.stamp(slot, sequence);
    // release: pairs with the consumer's acquire load of `written`; the bytes above come first.
    positions.written.store(sequence + 1, std::memory_order_release);
  }
  return true;
}

// Consumer `index` of config.consumers, reading the lanes in turn (one lane unless there are
// several producers), as many records of each as are there.
PassResult consume(const PassConfig& config, const std::vector<Lane>& lanes, std::uint32_t index) {
  ReceiveLog log(config);
  std::vector<std::uint64_t> next_of(lanes.size(), 0);
  std::vector<std::uint64_t> written_of(lanes.size(), 0);  // each producer's position as last loaded
  SpinGuard guard;
  while (log.received() < config.records) {
    bool read_any = false;
    for (std::size_t lane = 0; lane < lanes.size(); ++lane) {
      Positions& positions = *lanes[lane].positions;
      std::atomic<std::uint64_t>& read = positions.read[index].value;
      std::uint64_t next = next_of[lane];
      if (next == written_of[lane]) {
        // acquire: pairs with the producer's release store of `written`: the records below it
        // are complete.
        written_of[lane] = positions.written.load(std::memory_order_acquire);
        if (next == written_of[lane]) continue;
      }
      read_any = true;
      const std::uint64_t written = written_of[lane];
      const SlotRingShape& ring = lanes[lane].ring;
      for (; next < written; ++next) {
        if (ring.header_bytes != 0) {
          std::uint64_t header[kHeaderWords];
          std::memcpy(header, ring.slot_start(next), sizeof(header));
          // As ringfile's consumer checks its frame's position field: a header read, not skipped.
          if (header[1] != next + 1) {
            PassResult failed = std::move(log).finish();
            failed.error = "slot_ring_framed: a slot's header does not name its position";
            return failed;
          }
        }
        log.on_record(ring.record(next));
        if ((next + 1) % kConsumerPublishEvery == 0) {
          // release: pairs with the producer's acquire load of `read`; reading the slots comes
          // first.
          read.store(next + 1, std::memory_order_release);
        }
      }
      read.store(next, std::memory_order_release);  // as above
      next_of[lane] = next;
    }
    if (read_any) {
      guard.reset();
      continue;
    }
    if (!guard.keep_spinning()) return std::move(log).producer_gone();
    // Consumers that share a CPU (--consumers) let the one with records to read run.
    if (config.consumers > 1) sched_yield();
  }
  return std::move(log).finish();
}

PassResult run_slot_ring(const PassConfig& config, bool framed) {
  const char* const name = framed ? "slot_ring_framed" : "slot_ring";
  try {
    SlotRingShape shape = slot_ring_shape(config, framed);
    if (shape.slot_count < 2) throw programs::RuntimeFailure("records too large for the shared buffer");
    const std::size_t lane_bytes = sizeof(Positions) + shape.slot_count * shape.slot_bytes;
    const system::SharedMemory mapping(config.producers * lane_bytes, "the slot ring");
    std::vector<Lane> lanes;
    for (std::uint32_t index = 0; index < config.producers; ++index) {
      std::byte* const start = mapping.data() + index * lane_bytes;
      shape.slots = start + sizeof(Positions);
      lanes.push_back({new (start) Positions, shape});
    }
    // Every side but the main consumer is a forked child, which has none of the mapping's page
    // tables: each fills them before it starts, as ringfile's producers and consumers do.
    ExtraConsumers other_consumers(config, [&](std::uint32_t index, const std::function<void()>& attached) {
      mapping.fill_page_tables();
      attached();  // its position starts at 0 with the others': the producer waits for it
      return consume(config, lanes, index);
    });
    ExtraProducers other_producers(config, [&](std::uint32_t index) {
      mapping.fill_page_tables();
      return produce(config, lanes[index], index);
    });
    PassResult result = run_in_two_processes(
        config,
        [&] {
          mapping.fill_page_tables();
          return produce(config, lanes[0], 0);
        },
        [&] { return consume(config, lanes, 0); });
    other_consumers.merge_into(result, !result.error.empty());
    const std::string producers_error = other_producers.finish(!result.error.empty());
    if (result.error.empty()) result.error = producers_error;
    return result;
  } catch (const std::exception& failure) {
    PassResult failed;
    failed.error = std::string(name) + ": " + failure.what();
    return failed;
  }
}

PassResult run_slot_ring_plain(const PassConfig& config) { return run_slot_ring(config, false); }
PassResult run_slot_ring_framed(const PassConfig& config) { return run_slot_ring(config, true); }

}  // namespace

const Transport kSlotRingTransport{
    .name = "slot_ring",
    .summary =
        "the ceiling: fixed-slot SPSC ring in shared memory, cached opposite positions, "
        "zero copy, two busy processes, 64 MiB",
    .run = run_slot_ring_plain,
    .fans_out = true,
    .fans_in = true,
};

const Transport kSlotRingFramedTransport{
    .name = "slot_ring_framed",
    .summary =
        "slot_ring with slots of ringfile's frame size (40-byte header written and read, "
        "8-byte aligned): what the frame's bytes cost",
    .run = run_slot_ring_framed,
    .fans_out = true,
    .fans_in = true,
};

}  // namespace ringfile::bench::throughput
