// ringfile-bridge: forwards records between a ring file and NATS JetStream, exactly once.
// See `ringfile-bridge --help`, docs/bridge.md for the design.
#include <variant>

#include "bridge_settings.hpp"
#include "in_bridge.hpp"
#include "out_bridge.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::bridge {
namespace {

int run(int argc, char** argv) {
  auto parsed = parse_bridge_settings(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  programs::install_stop_handlers();
  const BridgeSettings& settings = std::get<BridgeSettings>(parsed);
  // --duration as a stop request, the one place it is looked at: it then ends the waits and retries
  // of an outage as well, which overran it (found by a tester: 5 s ran 12-15 s with the server gone).
  const auto& stop = std::visit([](const auto& side) -> const StopSettings& { return side.stop; }, settings);
  if (stop.duration) programs::request_stop_after(*stop.duration);
  if (const auto* out = std::get_if<OutSettings>(&settings)) return run_out(*out);
  return run_in(std::get<InSettings>(settings));
}

}  // namespace
}  // namespace ringfile::bridge

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bridge", [&] { return ringfile::bridge::run(argc, argv); });
}
