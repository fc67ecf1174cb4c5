#include "pingpong/pingpong.hpp"

#include <algorithm>

#include "support/clock.hpp"
#include "support/forked_pair.hpp"

namespace ringfile::bench::pingpong {

namespace {

std::vector<PingPongMode>& registered_modes() {
  static std::vector<PingPongMode> all;  // constructed on first use, whatever the link order
  return all;
}

}  // namespace

ModeRegistration::ModeRegistration(const PingPongMode& mode) { registered_modes().push_back(mode); }

const std::vector<PingPongMode>& modes() { return registered_modes(); }

const PingPongMode* find_mode(std::string_view name) {
  const auto& all = registered_modes();
  const auto found =
      std::find_if(all.begin(), all.end(), [name](const PingPongMode& mode) { return mode.name == name; });
  return found == all.end() ? nullptr : &*found;
}

PingPongResult run_ping_pong(const PingPongConfig& config, const std::function<bool()>& echo,
                             const std::function<bool(std::uint64_t sequence)>& round_trip) {
  PingPongResult result;
  result.one_way_ns.reserve(config.samples);
  const auto initiate = [&] {
    const std::uint64_t total = config.warmup + config.samples;
    for (std::uint64_t sequence = 0; sequence < total; ++sequence) {
      const std::uint64_t start_ns = monotonic_ns();
      if (!round_trip(sequence)) {
        result.error = "round trip " + std::to_string(sequence) +
                       " failed: no answer within 10 s, or the wrong one";
        return false;
      }
      const std::uint64_t end_ns = monotonic_ns();
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
