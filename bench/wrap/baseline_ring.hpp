// What the baseline kinds (naive, pwrite) share: a plain data file of exactly ring_bytes, and a
// reader that follows the writer with pread() using the count the harness publishes. The harness
// makes their writers wait for the reader (WriterKind::ring_holds_writer_back is false).
#pragma once

#include <memory>

#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

// Creates setup.path (which must not exist) and reserves all its blocks. Returns "" (nothing to
// say about the ring). Throws programs::RuntimeFailure.
std::string create_preallocated_ring_file(const RingSetup& setup);

// Throws programs::RuntimeFailure.
std::unique_ptr<RingReader> open_pread_follower(const RingSetup& setup);

}  // namespace ringfile::bench::wrap
