// CRC32C a byte at a time from a table: what ringfile::crc32c falls back to on CPUs without
// SSE4.2, and what the tests check the fast one against.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfile::detail {

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

}  // namespace ringfile::detail
