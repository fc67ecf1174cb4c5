// The ring `ringfile-bridge in` writes: opened, or created under --create. An existing ring is used
// only if it has the parameters asked for.
#pragma once

#include "bridge_settings.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::bridge {

// Throws ringfile::Error (missing, not a ring) or RuntimeFailure (exists with other parameters).
Ring open_ring_for_writing(const InSettings& settings);

}  // namespace ringfile::bridge
