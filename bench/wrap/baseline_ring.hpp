// What the baseline kinds (naive, pwrite) share: a plain data file of exactly ring_bytes, and a
// reader that follows the writer with pread() using the count the harness publishes.
#pragma once

#include <memory>

#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

// Creates setup.path (which must not exist) and reserves all its blocks. Throws SetupError.
void create_preallocated_ring_file(const RingSetup& setup);

// Throws SetupError.
std::unique_ptr<RingReader> open_pread_follower(const RingSetup& setup);

}  // namespace ringfile::bench::wrap
