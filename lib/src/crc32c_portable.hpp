// The ways to CRC32C besides the one ringfile::crc32c picks for this CPU, so that the tests check
// each against the others: a byte at a time from a table (the fallback on CPUs without SSE4.2),
// the crc32 instruction in three streams (the fallback on CPUs without VPCLMULQDQ), and folding
// alone (what crc32c does below 4 KiB, and after its last whole 4 KiB block).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfile::detail {

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// The portable one where the CPU has no SSE4.2.
std::uint32_t crc32c_three_streams(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// The portable one where the CPU has no VPCLMULQDQ.
std::uint32_t crc32c_folding(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

}  // namespace ringfile::detail
