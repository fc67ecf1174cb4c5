// The baselines of the ping-pong benchmark in shared memory between the two processes (the ring
// of slots, slot_ring_spin, is in slot_ring_modes.cpp):
//
// `slot_spin`, the floor: one slot each way (with one record in flight a ring needs no more),
// busy-spinning. A send copies the record into the slot and publishes its sequence number on the
// slot's own cache line; the other side spins on that line, reads the record in place and
// answers the same way through the other slot. Every record goes to the same two lines.
//
// `slot_framed_spin`: slot_spin with the record in ringfile's frame (record_header.hpp): the
// sender fills the 40-byte header (position, a timestamp read from the TSC as ringfile's
// producer does, sequence, the payload's CRC32C) and commits it with a seq_cst compare-and-swap
// of its commit word, as ringfile's producer does; the receiver spins on that word and checks the
// CRC. What the frame's own per-record work costs, without the ring's: no reservation, claims
// table, cursors or sleepers.
//
// `slot_framed_ring_spin`: the same frames one after another through kRingBytes each way, as a
// ring file lays them: the frame's cost where each record lands on lines of its own, moving.
//
// `futex`, the bare sleeping wait: one 32-bit word each way; a send stores the sequence number
// and calls FUTEX_WAKE, the receiver sleeps in FUTEX_WAIT until the word changes. No record
// bytes (the send stamp only, beside the word), no spinning first: the floor for any wait that
// sleeps in the kernel.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <span>
#include <vector>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "pingpong/pingpong.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/system/clock.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "support/spin_wait.hpp"

namespace ringfile::bench::pingpong {

namespace {

constexpr std::size_t kCacheLineBytes = 64;

// --- slot_spin ---

// One direction. The record follows on the next cache lines of the mapping.
struct alignas(kCacheLineBytes) SlotHeader {
  // Sequence number + 1 of the record in the slot (0: none yet). Stored by the sender (release,
  // after the record's bytes), loaded by the receiver (acquire, before reading them). The sender
  // rewrites the slot only after the answer came back, so the receiver is done with it by then.
  std::atomic<std::uint64_t> published{0};
};
static_assert(std::atomic<std::uint64_t>::is_always_lock_free, "shared between processes");

struct SlotChannel {
  SlotHeader* header;
  std::byte* record;
  std::size_t record_bytes;

  std::span<const std::byte> received() const noexcept { return {record, record_bytes}; }

  void send(std::uint64_t sequence, std::span<const std::byte> bytes) const noexcept {
    std::memcpy(record, bytes.data(), record_bytes);
    stamp_record(record, sequence);
    // release: pairs with the receiver's acquire load; the bytes above come first.
    header->published.store(sequence + 1, std::memory_order_release);
  }
  // Spins until the record with `sequence` is in the slot; false after kPeerTimeoutNs. The
  // record's send stamp goes to `sent_ns`.
  bool receive(std::uint64_t sequence, std::uint64_t& sent_ns) const noexcept {
    SpinGuard guard;
    // acquire: pairs with the sender's release store; its record is complete.
    while (header->published.load(std::memory_order_acquire) != sequence + 1) {
      if (!guard.keep_spinning()) return false;
    }
    return carries(received(), sequence, &sent_ns);
  }
};

std::size_t padded(std::size_t bytes) {
  return (bytes + kCacheLineBytes - 1) / kCacheLineBytes * kCacheLineBytes;
}

PingPongResult run_slot_spin(const PingPongConfig& config) {
  try {
    const std::size_t direction_bytes = kCacheLineBytes + padded(config.record_bytes);
    const system::SharedMemory mapping(2 * direction_bytes, "the slot rings");
    const auto channel = [&](std::size_t index) {
      std::byte* const base = mapping.data() + index * direction_bytes;
      return SlotChannel{new (base) SlotHeader, base + kCacheLineBytes, config.record_bytes};
    };
    return ping_pong_through(config, mapping, channel(0), channel(1));
  } catch (const std::exception& failure) {
    return {std::string("slot_spin: ") + failure.what(), {}, {}};
  }
}

// --- slot_framed_spin, slot_framed_ring_spin ---

// One direction: `frame_count` frames of `stride` bytes one after another, as ringfile lays them
// (one frame, 64-byte aligned, for slot_framed_spin), record `sequence` in frame sequence mod
// frame_count, its commit word first: what the receiver spins on. Each process has its own copy
// (the echo's made by the fork), so last_received is private to the side that uses it.
struct FramedChannel {
  std::byte* frames;
  std::uint64_t frame_count;  // a power of two
  std::size_t stride;
  std::size_t record_bytes;
  mutable std::uint64_t last_received = 0;

  std::byte* frame(std::uint64_t sequence) const noexcept {
    return frames + (sequence & (frame_count - 1)) * stride;
  }
  static format::RecordHeader& header(std::byte* frame) noexcept {
    return *reinterpret_cast<format::RecordHeader*>(frame);
  }
  static std::byte* payload(std::byte* frame) noexcept { return frame + format::kRecordHeaderBytes; }
  std::span<const std::byte> received() const noexcept { return {payload(frame(last_received)), record_bytes}; }
  static std::atomic_ref<std::uint64_t> commit_word(std::byte* frame) noexcept {
    return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(frame));
  }
  // The word that commits `sequence`'s frame: the sequence stands in for ringfile's lap tag, so
  // that each record's word differs from the frame's last one.
  std::uint64_t word_of(std::uint64_t sequence) const noexcept {
    return format::make_commit_word(static_cast<std::uint32_t>(format::kRecordHeaderBytes + record_bytes),
                                    format::FrameType::data, static_cast<std::uint32_t>(sequence + 1),
                                    format::kChecksummedFlag);
  }

  static std::uint64_t timestamp() noexcept {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return system::monotonic_ns();
#endif
  }

  // With one record in flight the frame is free again long before the sender comes back to it.
  void send(std::uint64_t sequence, std::span<const std::byte> bytes) const noexcept {
    std::byte* const into = frame(sequence);
    std::memcpy(payload(into), bytes.data(), record_bytes);
    stamp_record(payload(into), sequence);
    format::RecordHeader& fields = header(into);
    fields.position = sequence;
    fields.timestamp_ns = timestamp();
    fields.producer_sequence = sequence;
    fields.payload_crc32c = crc32c({payload(into), record_bytes});
    // The word the frame holds: this sender wrote it a lap ago, or nobody did.
    std::uint64_t last = sequence < frame_count ? 0 : word_of(sequence - frame_count);
    // seq_cst: as ringfile's commit (release for the frame's bytes above).
    commit_word(into).compare_exchange_strong(last, word_of(sequence), std::memory_order_seq_cst);
  }

  bool receive(std::uint64_t sequence, std::uint64_t& sent_ns) const noexcept {
    std::byte* const from = frame(sequence);
    SpinGuard guard;
    // acquire: pairs with the sender's compare-and-swap; the frame's bytes are complete.
    while (commit_word(from).load(std::memory_order_acquire) != word_of(sequence)) {
      if (!guard.keep_spinning()) return false;
    }
    last_received = sequence;
    if (crc32c(received()) != header(from).payload_crc32c) return false;
    return carries(received(), sequence, &sent_ns);
  }
};

PingPongResult run_framed(const PingPongConfig& config, const char* name, std::size_t direction_bytes) {
  try {
    const std::size_t stride = format::frame_stride(format::kRecordHeaderBytes + config.record_bytes);
    // One frame, alone on its lines, or as many as fill the ring's bytes.
    const std::uint64_t frame_count = direction_bytes == 0 ? 1 : std::bit_floor(direction_bytes / stride);
    const std::size_t bytes = direction_bytes == 0 ? padded(stride) : frame_count * stride;
    const system::SharedMemory mapping(2 * bytes, name);
    return ping_pong_through(config, mapping, FramedChannel{mapping.data(), frame_count, stride, config.record_bytes},
                             FramedChannel{mapping.data() + bytes, frame_count, stride, config.record_bytes});
  } catch (const std::exception& failure) {
    return {std::string(name) + ": " + failure.what(), {}, {}};
  }
}

PingPongResult run_slot_framed_spin(const PingPongConfig& config) {
  return run_framed(config, "slot_framed_spin", 0);
}
PingPongResult run_slot_framed_ring_spin(const PingPongConfig& config) {
  return run_framed(config, "slot_framed_ring_spin", kRingBytes);
}

// --- futex ---

struct alignas(kCacheLineBytes) FutexWord {
  // Low 32 bits of sequence number + 1 last sent. Stored by the sender (release), loaded by the
  // receiver (acquire); the kernel compares it in FUTEX_WAIT.
  std::atomic<std::uint32_t> value{0};
  // The sender's clock at the send: written before `value`'s release store, read after the
  // receiver's acquire load found the value it waits for.
  std::uint64_t sent_ns = 0;
};
static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "a futex is 32 bits");

// Shared, not private, futex operations: the waker is another process.
void futex_wake(FutexWord& word) noexcept {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word.value), FUTEX_WAKE, 1, nullptr,
            nullptr, 0);
}

// Sleeps until `word` holds `expected`; false after kPeerTimeoutNs of no change.
bool futex_wait_for(FutexWord& word, std::uint32_t expected) noexcept {
  const timespec timeout{static_cast<time_t>(kPeerTimeoutNs / 1'000'000'000), 0};
  for (;;) {
    // acquire: pairs with the sender's release store.
    const std::uint32_t now = word.value.load(std::memory_order_acquire);
    if (now == expected) return true;
    const long woken = ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word.value),
                                 FUTEX_WAIT, now, &timeout, nullptr, 0);
    if (woken != 0 && errno == ETIMEDOUT) return false;
  }
}

void futex_send(FutexWord& word, std::uint64_t sequence) noexcept {
  word.sent_ns = system::monotonic_ns();
  // release: pairs with the receiver's acquire load in futex_wait_for.
  word.value.store(static_cast<std::uint32_t>(sequence + 1), std::memory_order_release);
  futex_wake(word);
}

PingPongResult run_futex(const PingPongConfig& config) {
  try {
    const system::SharedMemory mapping(2 * sizeof(FutexWord), "the futex words");
    FutexWord& ping = *new (mapping.data()) FutexWord;
    FutexWord& pong = *new (mapping.data() + sizeof(FutexWord)) FutexWord;
    const auto echo = [&] {
      for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
        if (!futex_wait_for(ping, static_cast<std::uint32_t>(sequence + 1))) return false;
        futex_send(pong, sequence);
      }
      return true;
    };
    return run_ping_pong(config, echo, [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
      futex_send(ping, sequence);
      if (!futex_wait_for(pong, static_cast<std::uint32_t>(sequence + 1))) return false;
      answer_sent_ns = pong.sent_ns;
      return true;
    });
  } catch (const std::exception& failure) {
    return {std::string("futex: ") + failure.what(), {}, {}};
  }
}

}  // namespace

const PingPongMode kSlotSpinMode{
    "slot_spin",
    "the ceiling: a one-slot SPSC ring each way in shared memory, busy spin",
    run_slot_spin,
};

const PingPongMode kSlotFramedSpinMode{
    "slot_framed_spin",
    "slot_spin carrying ringfile's frame: header, TSC stamp, CRC32C, compare-and-swap commit",
    run_slot_framed_spin,
};

const PingPongMode kSlotFramedRingSpinMode{
    "slot_framed_ring_spin",
    "ringfile's frames one after another through 64 MiB each way, as in a ring file: slot_framed_spin moving",
    run_slot_framed_ring_spin,
};

const PingPongMode kFutexMode{
    "futex",
    "a bare futex word each way in shared memory, FUTEX_WAKE / FUTEX_WAIT, no spinning",
    run_futex,
};

}  // namespace ringfile::bench::pingpong
