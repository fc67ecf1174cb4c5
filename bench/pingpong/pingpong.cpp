#include "pingpong/pingpong.hpp"

#include <algorithm>

#include "ringfile/system/clock.hpp"
#include "support/forked_pair.hpp"
#include "support/named_entries.hpp"
#include "support/roudi_process.hpp"

namespace ringfile::bench::pingpong {

std::span<const PingPongMode> modes() {
  // Built on first use, from main: after every mode file's constants are initialised.
  static const std::vector<PingPongMode> all = [] {
    std::vector<PingPongMode> list{kSlotSpinMode, kFutexMode, kRingfileSpinMode, kRingfileDefaultMode,
                                   kRingfileSleepMode};
#ifdef RINGFILE_BENCH_ICEORYX
    if (iceoryx_unavailable() == nullptr) list.push_back(kIceoryxSpinMode);
#endif
    return list;
  }();
  return all;
}

const PingPongMode* find_mode(std::string_view name) { return find_by_name(modes(), name); }

PingPongResult run_ping_pong(const PingPongConfig& config, const std::function<bool()>& echo,
                             const std::function<bool(std::uint64_t sequence)>& round_trip) {
  PingPongResult result;
  result.one_way_ns.reserve(config.samples);
  const auto initiate = [&] {
    const std::uint64_t total = config.warmup + config.samples;
    for (std::uint64_t sequence = 0; sequence < total; ++sequence) {
      const std::uint64_t start_ns = system::monotonic_ns();
      if (!round_trip(sequence)) {
        result.error = "round trip " + std::to_string(sequence) +
                       " failed: no answer within 10 s, or the wrong one";
        return false;
      }
      const std::uint64_t end_ns = system::monotonic_ns();
      if (sequence >= config.warmup) result.one_way_ns.push_back((end_ns - start_ns) / 2);
    }
    return true;
  };
  const std::string pair_error = run_forked_pair({"echo", config.echo_cpu, echo},
                                                 {"initiator", config.initiator_cpu, initiate});
  if (result.error.empty()) result.error = pair_error;
  return result;
}

}  // namespace ringfile::bench::pingpong
