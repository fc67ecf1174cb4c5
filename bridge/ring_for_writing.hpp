// The ring `ringfile-bridge in` writes: opened, or created under --create. An existing ring is used
// only if it has the parameters asked for.
#pragma once

#include "bridge_settings.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::bridge {

struct RingForWriting {
  Ring ring;
  bool created = false;  // by this call: --create, and no ring was at the path
};

// Throws ringfile::Error (missing, not a ring) or RuntimeFailure (exists with other parameters).
RingForWriting open_ring_for_writing(const InSettings& settings);

// Removes the ring of a run that created it and fails before writing a record to it: left there,
// it kept every block reserved, and a rerun took it as it was, refusing a corrected --size as
// "exists with other parameters". Kept when another process has taken to it meanwhile (a record
// written, a consumer's slot, a producer's slot not this process's) or the path names another ring
// by now.
void remove_created_ring(const RingForWriting& target);

}  // namespace ringfile::bridge
