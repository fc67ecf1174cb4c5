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

namespace ringfile::bench::pingpong {

struct PingPongConfig {
  std::size_t record_bytes = 64;
  std::uint64_t samples = 1'000'000;  // round trips timed
  std::uint64_t warmup = 10'000;      // round trips before those, not timed
  int initiator_cpu = 0;
  int echo_cpu = 1;
};

struct PingPongResult {
  std::string error;  // empty: every round trip came back with its own sequence number
  std::vector<std::uint64_t> one_way_ns;  // round trip / 2, one per timed sample
};

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
extern const PingPongMode kFutexMode;
extern const PingPongMode kRingfileSpinMode;
extern const PingPongMode kRingfileDefaultMode;
extern const PingPongMode kRingfileSleepMode;
#ifdef RINGFILE_BENCH_ICEORYX
extern const PingPongMode kIceoryxSpinMode;
#endif

// The two sides of every mode. `echo` runs in a forked process pinned to config.echo_cpu: it
// answers warmup + samples records, each with the sequence number it received (true: all
// answered). `round_trip(sequence)` runs on the calling thread pinned to config.initiator_cpu:
// it sends a record carrying `sequence` and waits for the answer carrying the same (false: no
// answer, or the wrong one). The round trips are timed here, so every mode pays the same for the
// timing and the call.
PingPongResult run_ping_pong(const PingPongConfig& config, const std::function<bool()>& echo,
                             const std::function<bool(std::uint64_t sequence)>& round_trip);

}  // namespace ringfile::bench::pingpong
