// Fuzzes a consumer with write access: Ring::open, then attach and poll every record, as an
// anonymous consumer from the earliest record and as every named consumer the table holds.
// Anything but an ringfile::Error (a crash, a sanitizer report, a fault in a guard region, a
// hang caught by -timeout, an endless stream of records) is a finding.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_ring_file.hpp"

using namespace ringfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<Ring> ring = fuzz::open_fuzzed_ring({data, size}, {});
  if (!ring) return 0;
  const bool patient = size % 2 == 1;  // the fuzzer chooses by the input's length
  fuzz::read_every_record(*ring, {.start = StartFrom::earliest}, patient);
  for (const ConsumerInfo& consumer : ring->consumers()) {
    if (!consumer.name.empty()) fuzz::read_every_record(*ring, {.name = consumer.name}, patient);
  }
  fuzz::read_every_record(*ring, {.start = StartFrom::latest, .holds_back = false}, patient);
  return 0;
}
