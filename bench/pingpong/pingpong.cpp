#include "pingpong/pingpong.hpp"

#include <algorithm>
#include <cstring>

#include "ringfile/system/clock.hpp"
#include "support/forked_pair.hpp"
#include "support/named_entries.hpp"
#include "support/roudi_process.hpp"

namespace ringfile::bench::pingpong {

std::span<const PingPongMode> modes() {
  // Built on first use, from main: after every mode file's constants are initialised.
  static const std::vector<PingPongMode> all = [] {
    std::vector<PingPongMode> list{kSlotSpinMode,          kSlotRingSpinMode,      kSlotFramedSpinMode,  kSlotFramedRingSpinMode,    kFutexMode,
                                   kRingfileSpinMode,      kRingfileWriteSpinMode, kRingfileNocrcSpinMode,
                                   kRingfileDefaultMode,   kRingfileSleepMode,     kSpscQueueSpinMode,
                                   kMessageQueueSpinMode,  kMessageQueueMode,      kUnixSocketSpinMode,
                                   kUnixSocketMode};
#ifdef RINGFILE_BENCH_ICEORYX
    if (iceoryx_unavailable() == nullptr) list.push_back(kIceoryxSpinMode);
#endif
    return list;
  }();
  return all;
}

const PingPongMode* find_mode(std::string_view name) { return find_by_name(modes(), name); }

void stamp_record(std::byte* record, std::uint64_t sequence) noexcept {
  const Stamp stamp{sequence, system::monotonic_ns()};
  std::memcpy(record, &stamp.sequence, sizeof(stamp.sequence));
  std::memcpy(record + sizeof(stamp.sequence), &stamp.sent_ns, sizeof(stamp.sent_ns));
}

Stamp read_stamp(const std::byte* record) noexcept {
  Stamp stamp;
  std::memcpy(&stamp.sequence, record, sizeof(stamp.sequence));
  std::memcpy(&stamp.sent_ns, record + sizeof(stamp.sequence), sizeof(stamp.sent_ns));
  return stamp;
}

bool carries(std::span<const std::byte> record, std::uint64_t sequence, std::uint64_t* sent_ns) noexcept {
  if (record.size() < kStampBytes) return false;
  const Stamp stamp = read_stamp(record.data());
  if (sent_ns != nullptr) *sent_ns = stamp.sent_ns;
  return stamp.sequence == sequence;
}

PingPongResult run_ping_pong(const PingPongConfig& config, const std::function<bool()>& echo,
                             const RoundTrip& round_trip) {
  PingPongResult result;
  result.half_round_trip_ns.reserve(config.samples);
  result.return_trip_ns.reserve(config.samples);
  const auto initiate = [&] {
    const std::uint64_t total = config.warmup + config.samples;
    for (std::uint64_t sequence = 0; sequence < total; ++sequence) {
      std::uint64_t answer_sent_ns = 0;
      const std::uint64_t start_ns = system::monotonic_ns();
      if (!round_trip(sequence, answer_sent_ns)) {
        result.error = "round trip " + std::to_string(sequence) +
                       " failed: no answer within 10 s, or the wrong one";
        return false;
      }
      const std::uint64_t end_ns = system::monotonic_ns();
      // The echo stamped its answer after the ping left, and the clock is one for all CPUs; a
      // stamp outside the round trip is a broken answer, not a sample.
      if (answer_sent_ns < start_ns || answer_sent_ns > end_ns) {
        result.error = "round trip " + std::to_string(sequence) + ": the answer's stamp lies outside the round trip";
        return false;
      }
      if (sequence < config.warmup) continue;
      result.half_round_trip_ns.push_back((end_ns - start_ns) / 2);
      result.return_trip_ns.push_back(end_ns - answer_sent_ns);
    }
    return true;
  };
  const std::string pair_error = run_forked_pair({"echo", config.echo_cpu, echo},
                                                 {"initiator", config.initiator_cpu, initiate});
  if (result.error.empty()) result.error = pair_error;
  return result;
}

}  // namespace ringfile::bench::pingpong
