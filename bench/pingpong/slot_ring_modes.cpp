// `slot_ring_spin`: the ceiling as the throughput benchmark has it, a fixed-slot SPSC ring in
// shared memory each way, kRingBytes of slots of exactly the record size (as many bytes as each
// of ringfile's two rings), busy-spinning. Unlike slot_spin's one slot, which every record
// reuses, each record goes to the next slot: the ring moves through its buffer as ringfile's does
// and as any ring with room for more than one record in flight must, so a record now and then
// starts a new page and the lines it lands on have not been touched for a lap. A send copies the
// record into its slot and publishes the count written on a cache line of its own; the receiver
// spins on that line, reads the record in place and publishes the count it has read every
// kPublishReadEvery records (the sender looks at it only when its copy says the ring is full).
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>
#include <span>
#include <string>

#include "pingpong/pingpong.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "support/slot_ring_positions.hpp"
#include "support/spin_wait.hpp"

namespace ringfile::bench::pingpong {

namespace {

constexpr std::uint64_t kPublishReadEvery = 64;
// One receiver each way.
using Positions = SlotRingPositions<1>;

// One direction. Each process has its own copy of the channel (the echo's made by the fork), so
// the cached positions are private to the side that uses them.
struct SlotRingChannel {
  Positions* positions;
  std::byte* slots;
  std::uint64_t slot_count;  // a power of two
  std::size_t record_bytes;
  mutable std::uint64_t read_cached = 0;     // the sender's copy of `read`
  mutable std::uint64_t written_cached = 0;  // the receiver's copy of `written`
  mutable std::uint64_t last_received = 0;

  std::byte* slot(std::uint64_t sequence) const noexcept {
    return slots + (sequence & (slot_count - 1)) * record_bytes;
  }
  std::span<const std::byte> received() const noexcept { return {slot(last_received), record_bytes}; }

  void send(std::uint64_t sequence, std::span<const std::byte> bytes) const noexcept {
    SpinGuard guard;
    while (sequence - read_cached == slot_count) {
      // acquire: pairs with the receiver's release store of `read`; it is done with the slot.
      read_cached = positions->read[0].value.load(std::memory_order_acquire);
      // A receiver that stopped reading is gone: nothing is sent, and the wait for the answer
      // fails.
      if (sequence - read_cached == slot_count && !guard.keep_spinning()) return;
    }
    std::memcpy(slot(sequence), bytes.data(), record_bytes);
    stamp_record(slot(sequence), sequence);
    // release: pairs with the receiver's acquire load of `written`; the bytes above come first.
    positions->written.store(sequence + 1, std::memory_order_release);
  }

  // Spins until the record with `sequence` is written; false after kPeerTimeoutNs. Its send
  // stamp goes to `sent_ns`.
  bool receive(std::uint64_t sequence, std::uint64_t& sent_ns) const noexcept {
    // Every record before `sequence` has been answered (the echo) or checked (the initiator).
    // release: pairs with the sender's acquire load of `read`.
    if (sequence % kPublishReadEvery == 0) positions->read[0].value.store(sequence, std::memory_order_release);
    SpinGuard guard;
    while (written_cached <= sequence) {
      // acquire: pairs with the sender's release store of `written`; the record is complete.
      written_cached = positions->written.load(std::memory_order_acquire);
      if (written_cached <= sequence && !guard.keep_spinning()) return false;
    }
    last_received = sequence;
    return carries(received(), sequence, &sent_ns);
  }
};

PingPongResult run_slot_ring_spin(const PingPongConfig& config) {
  try {
    const std::uint64_t slot_count = std::bit_floor(kRingBytes / config.record_bytes);
    const std::size_t direction_bytes = sizeof(Positions) + slot_count * config.record_bytes;
    const system::SharedMemory mapping(2 * direction_bytes, "the slot rings");
    const auto channel = [&](std::size_t index) {
      std::byte* const base = mapping.data() + index * direction_bytes;
      return SlotRingChannel{new (base) Positions, base + sizeof(Positions), slot_count,
                             config.record_bytes};
    };
    return ping_pong_through(config, mapping, channel(0), channel(1));
  } catch (const std::exception& failure) {
    return {std::string("slot_ring_spin: ") + failure.what(), {}, {}};
  }
}

}  // namespace

const PingPongMode kSlotRingSpinMode{
    "slot_ring_spin",
    "the throughput ceiling: a fixed-slot SPSC ring of 64 MiB each way in shared memory, busy spin",
    run_slot_ring_spin,
};

}  // namespace ringfile::bench::pingpong
