// The ping-pong latency benchmark's modes: ways of sending one record to an echo process and
// waiting for it to come back, behind one interface, and their list. Each mode file defines its
// `const PingPongMode k<Name>Mode{...}` declared below, and the list (pingpong.cpp) names it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ringfile/system/shared_memory.hpp"

namespace ringfile::bench::pingpong {

// The bytes of each of the ringfile modes' two rings, and of each direction of the rings of
// slots (slot_ring_spin, slot_framed_ring_spin).
inline constexpr std::size_t kRingBytes = std::size_t{64} << 20;

struct PingPongConfig {
  std::size_t record_bytes = 64;
  std::uint64_t samples = 1'000'000;  // round trips timed
  std::uint64_t warmup = 10'000;      // round trips before those, not timed
  int initiator_cpu = 0;
  int echo_cpu = 1;
  // Where the ringfile modes create their two rings: a tmpfs. One mounted with huge=always (or
  // within_size) backs them with 2 MiB pages.
  std::string ring_dir = "/dev/shm";
  // Each side reads a byte of every page of its rings or shared memory before the first round
  // trip (ringfile: ProducerOptions / ConsumerOptions::pre_touch), so that no timed record pays
  // for its page's first access (microseconds where the host shadows the guest's page tables).
  bool pre_touch = false;
};

struct PingPongResult {
  std::string error;  // empty: every round trip came back with its own sequence number
  std::vector<std::uint64_t> half_round_trip_ns;  // round trip / 2, one per timed sample
  // The answer's way alone, one per timed sample: from the echo's stamp, taken as it sent the
  // answer, to the initiator holding it (both CLOCK_MONOTONIC, one clock for every CPU).
  std::vector<std::uint64_t> return_trip_ns;
};

// What every record carries in its first kStampBytes: its sequence number, then the sender's
// CLOCK_MONOTONIC when it sent the record. Both sides stamp what they send, so each pays the
// same clock reading per record; the initiator reads the echo's stamp for the return trip.
inline constexpr std::size_t kStampBytes = 16;
struct Stamp {
  std::uint64_t sequence = 0;
  std::uint64_t sent_ns = 0;
};
// Writes `sequence` and the clock now into the first kStampBytes of `record`.
void stamp_record(std::byte* record, std::uint64_t sequence) noexcept;
Stamp read_stamp(const std::byte* record) noexcept;
// True when `record` holds a stamp and it carries `sequence`; its send stamp goes to `*sent_ns`
// (if given).
bool carries(std::span<const std::byte> record, std::uint64_t sequence, std::uint64_t* sent_ns = nullptr) noexcept;

struct PingPongMode {
  std::string_view name;
  std::string_view summary;
  // Runs one pass. Never throws: failures land in PingPongResult::error.
  PingPongResult (*run)(const PingPongConfig& config);
};

// Every mode, in the default order of --modes.
std::span<const PingPongMode> modes();
const PingPongMode* find_mode(std::string_view name);

extern const PingPongMode kSlotSpinMode;
extern const PingPongMode kSlotRingSpinMode;
extern const PingPongMode kSlotFramedSpinMode;
extern const PingPongMode kSlotFramedRingSpinMode;
extern const PingPongMode kFutexMode;
extern const PingPongMode kRingfileSpinMode;
extern const PingPongMode kRingfileDefaultMode;
extern const PingPongMode kRingfileSleepMode;
extern const PingPongMode kRingfileWriteSpinMode;
extern const PingPongMode kRingfileNocrcSpinMode;
extern const PingPongMode kSpscQueueSpinMode;
extern const PingPongMode kMessageQueueMode;
extern const PingPongMode kMessageQueueSpinMode;
extern const PingPongMode kUnixSocketMode;
extern const PingPongMode kUnixSocketSpinMode;
#ifdef RINGFILE_BENCH_ICEORYX
extern const PingPongMode kIceoryxSpinMode;
#endif

// The two sides of every mode. `echo` runs in a forked process pinned to config.echo_cpu: it
// answers warmup + samples records, each stamped (stamp_record) with the sequence number it
// received as it is sent (true: all answered). `round_trip(sequence, answer_sent_ns)` runs on
// the calling thread pinned to config.initiator_cpu: it sends a record stamped with `sequence`,
// waits for the answer carrying the same and stores the answer's send stamp in answer_sent_ns
// (false: no answer, or the wrong one). The round trips are timed here, so every mode pays the
// same for the timing and the call.
using RoundTrip = std::function<bool(std::uint64_t sequence, std::uint64_t& answer_sent_ns)>;
PingPongResult run_ping_pong(const PingPongConfig& config, const std::function<bool()>& echo,
                             const RoundTrip& round_trip);

// The echo's first step with shared memory made before the fork: fill its page tables (the fork
// left it none, and the ringfile modes' echo maps its rings with theirs filled) and, with
// pre_touch, read every page.
inline void prepare_echo_memory(const PingPongConfig& config, const system::SharedMemory& memory) {
  memory.fill_page_tables();
  if (config.pre_touch) memory.touch_pages();
}

// `round_trip`, but with pre_touch the first (untimed) call reads every page of `memory` first,
// as the ringfile modes' initiator attaches to its rings then. (Its page tables were filled as
// `memory` was made.)
template <typename Fn>
RoundTrip touching_at_first_trip(const PingPongConfig& config, const system::SharedMemory& memory, Fn round_trip) {
  return [&memory, touched = !config.pre_touch, round_trip](std::uint64_t sequence,
                                                              std::uint64_t& answer_sent_ns) mutable {
    if (!touched) memory.touch_pages();
    touched = true;
    return round_trip(sequence, answer_sent_ns);
  };
}

// The ping-pong through two one-way channels in `memory`, `ping` to the echo and `pong` back,
// each with send(sequence, bytes), receive(sequence, sent_ns) -> bool and received() (the bytes
// of the record last received, in place): the echo answers each record with those bytes.
template <typename Channel>
PingPongResult ping_pong_through(const PingPongConfig& config, const system::SharedMemory& memory,
                                 const Channel& ping, const Channel& pong) {
  std::vector<std::byte> record(config.record_bytes, std::byte{0x5a});
  const auto echo = [&] {
    prepare_echo_memory(config, memory);
    for (std::uint64_t sequence = 0; sequence < config.warmup + config.samples; ++sequence) {
      std::uint64_t ignored = 0;
      if (!ping.receive(sequence, ignored)) return false;
      pong.send(sequence, ping.received());
    }
    return true;
  };
  const auto round_trip = [&](std::uint64_t sequence, std::uint64_t& answer_sent_ns) {
    ping.send(sequence, record);
    return pong.receive(sequence, answer_sent_ns);
  };
  return run_ping_pong(config, echo, touching_at_first_trip(config, memory, round_trip));
}

}  // namespace ringfile::bench::pingpong
