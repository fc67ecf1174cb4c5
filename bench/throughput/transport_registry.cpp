#include <algorithm>

#include "throughput/transports.hpp"

namespace ringfile::bench::throughput {

namespace {

// A function-local static, so registrations from other files' static initialisers find it
// constructed whatever the order the linker gave those files.
std::vector<Transport>& registered_transports() {
  static std::vector<Transport> all;
  return all;
}

}  // namespace

TransportRegistration::TransportRegistration(const Transport& transport) {
  registered_transports().push_back(transport);
}

const std::vector<Transport>& transports() { return registered_transports(); }

const Transport* find_transport(std::string_view name) {
  const auto& all = registered_transports();
  const auto found = std::find_if(all.begin(), all.end(), [name](const Transport& transport) {
    return transport.name == name;
  });
  return found == all.end() ? nullptr : &*found;
}

}  // namespace ringfile::bench::throughput
