// The ring files open in this process, as describe_truncated_ring (ringfile/truncated_rings.hpp)
// reads them from a signal handler: a fixed table of lock-free entries, no allocation.
#pragma once

#include <cstdint>
#include <string_view>

namespace ringfile::detail {

// Enters an open ring; returns its entry, or -1 when the table is full (the ring then goes
// undescribed: describe_truncated_ring reports only the rings it knows).
int enter_open_ring(int fd, std::uint64_t declared_bytes, std::string_view path) noexcept;
// @pre before the descriptor is closed, so that the handler never looks at a reused one
void leave_open_ring(int entry) noexcept;

}  // namespace ringfile::detail
