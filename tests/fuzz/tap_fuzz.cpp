// Fuzzes the read-only tap: a reader without write access (Ring opened read-only, its mappings
// read-only too) attaches without a slot and polls every record, from the earliest, from the
// latest and from every cursor in the consumer table. Whatever a writer put in the file, the tap
// must not crash, hang, write, or read outside its mappings.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_ring_file.hpp"

using namespace ringfile;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::optional<Ring> ring = fuzz::open_fuzzed_ring({data, size}, {.read_only = true});
  if (!ring) return 0;
  const bool patient = size % 2 == 1;
  const ConsumerOptions tap{.holds_back = false};
  ConsumerOptions from = tap;
  from.start = StartFrom::earliest;
  fuzz::read_every_record(*ring, from, patient);
  from.start = StartFrom::latest;
  fuzz::read_every_record(*ring, from, patient);
  for (const ConsumerInfo& consumer : ring->consumers()) {
    from.start_position = consumer.cursor;
    fuzz::read_every_record(*ring, from, patient);
  }
  return 0;
}
