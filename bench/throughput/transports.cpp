#include "throughput/transports.hpp"

#include <vector>

#include "support/named_entries.hpp"
#include "support/roudi_process.hpp"

namespace ringfile::bench::throughput {

std::span<const Transport> transports() {
  // Built on first use, from main: after every transport file's constants are initialised.
  static const std::vector<Transport> all = [] {
    std::vector<Transport> list{kSlotRingTransport,          kSlotRingFramedTransport, kMessageQueueTransport,
                                kSpscQueueTransport,         kSpscQueueShmTransport,   kUnixSocketTransport,
                                kRingfileTransport,          kRingfileNocrcTransport,  kRingfileWriteTransport,
                                kRingfileWriteNocrcTransport, kRingfileBatchTransport,  kRingfileBatchNocrcTransport,
                                kMemcpyLoopTransport};
#ifdef RINGFILE_BENCH_ICEORYX
    if (iceoryx_unavailable() == nullptr) list.push_back(kIceoryxTransport);
#endif
    return list;
  }();
  return all;
}

const Transport* find_transport(std::string_view name) { return find_by_name(transports(), name); }

}  // namespace ringfile::bench::throughput
