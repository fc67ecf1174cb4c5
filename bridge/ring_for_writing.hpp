// The ring `ringfile-bridge in` writes: opened, or created under --create. An existing ring is used
// only if it has the parameters asked for.
#pragma once

#include <optional>

#include "bridge_settings.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::bridge {

// The ring at settings.ring, or nullopt when --create is to make it (nothing there yet). Throws
// ringfile::Error (missing without --create, not a ring) or RuntimeFailure (exists with other
// parameters than --create asks for).
std::optional<Ring> find_ring_for_writing(const InSettings& settings);

// Creates the ring --create asks for; one made at its path meanwhile is taken if it has those
// parameters. Throws ringfile::Error (options the ring refuses, no space, no such directory) or
// RuntimeFailure (made meanwhile with other parameters).
Ring create_ring_for_writing(const InSettings& settings);

}  // namespace ringfile::bridge
