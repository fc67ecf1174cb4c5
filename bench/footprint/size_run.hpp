// One ring size of the footprint benchmark, measured in a fresh process: it creates the ring,
// writes records until the head has gone round the laps asked for, and samples its own memory as
// it goes. The result comes back through memory shared with the parent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "footprint/memory_sample.hpp"

namespace ringfile::bench::footprint {

struct FootprintOptions {
  std::vector<std::uint64_t> ring_sizes{1ull << 30, 64ull << 30};
  std::uint64_t record_bytes = 625'000;
  std::uint64_t laps = 1;
  std::uint64_t view_bytes = 64ull << 20;  // the library's default OpenOptions::view_bytes
  std::string directory = "/tmp";
};

// Written by the child that measured one size, read by the parent after waitpid: a plain struct
// in shared memory.
struct SizeResult {
  std::uint64_t ring_bytes = 0;
  std::uint64_t view_bytes = 0;
  char paging[16] = {};
  MemorySample before;  // after creating the producer, before the first record
  MemorySample after;   // when the head has gone round --laps times
  MemorySample peak;    // highest of each field over the samples taken while writing
  std::uint64_t samples = 0;
  std::uint64_t payload_bytes = 0;
  double seconds = 0;
  std::uint64_t disk_read_bytes = 0;
  std::uint64_t ring_resident_bytes = 0;  // the ring file's page cache at the end
  char error[256] = {};                   // empty: measured
};

// Forks a child for one size (a fresh process, so nothing of the previous size is mapped) and
// waits for it. Throws programs::RuntimeFailure when the ring does not fit or the fork fails; a
// failure in the child lands in SizeResult::error.
SizeResult run_size(const FootprintOptions& options, std::uint64_t ring_bytes);

}  // namespace ringfile::bench::footprint
