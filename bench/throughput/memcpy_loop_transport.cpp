// `memcpy_loop`: no second party at all. One pinned thread copies each record into the next
// place of a buffer of the ring's size (wrapping around), stamps it there and hands it to
// ReceiveLog where it lies: the bandwidth of the copy-in alone, which every transport here pays
// at least once. The bound for large records: the ring at >= 0.7x this.
#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "support/cpu_pinning.hpp"
#include "support/source_buffer.hpp"
#include "throughput/record_flow.hpp"
#include "throughput/transports.hpp"
#include "throughput/two_processes.hpp"

namespace ringfile::bench::throughput {

namespace {

PassResult run_memcpy_loop(const PassConfig& config) {
  const std::size_t places = std::max<std::size_t>(kSharedBufferBytes / std::max<std::size_t>(config.record_bytes, 1), 1);
  // At a page's start, as the other transports' shared memory is: a heap block of this size
  // starts 16 bytes past one, and glibc's `rep movsb` copy, at that distance from a source that
  // starts a page, took about 2 us a 4 KiB record on a Zen 3 (bench/README.md), where copies
  // between page starts run at memory speed.
  const SourceBuffer destination(places * config.record_bytes);
  const SavedAffinity restore_affinity;
  const bool pinned = pin_current_thread(config.producer_cpu);
  const SourceBuffer source(config.record_bytes);  // see support/source_buffer.hpp
  const std::span<std::byte> record = source.bytes();
  fill_record(record);
  RecordStamper stamper(config);
  ReceiveLog log(config);
  for (std::uint64_t sequence = 0; sequence < config.records; ++sequence) {
    const std::span<std::byte> place(destination.data() + (sequence % places) * config.record_bytes, config.record_bytes);
    std::memcpy(place.data(), record.data(), record.size());
    stamper.stamp(place, sequence);
    log.on_record(place);
  }
  PassResult result = std::move(log).finish();
  if (!pinned) result.error = "cannot pin to the requested CPU";
  return result;
}

}  // namespace

const Transport kMemcpyLoopTransport{
    .name = "memcpy_loop",
    .summary = "one thread copying each record into a buffer of the ring's size and reading its stamp there",
    .run = run_memcpy_loop,
};

}  // namespace ringfile::bench::throughput
