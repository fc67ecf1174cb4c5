// Arithmetic on a raw CRC32C register (no pre- or post-inversion: ringfile::crc32c adds them),
// shared by the ways crc32c.cpp and crc32c_folding.cpp compute it: the register updated a byte
// at a time from a table, and the register shifted over zero bytes, which joins registers
// computed over separate streams of one buffer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace ringfile::detail {

// The reflected Castagnoli polynomial.
inline constexpr std::uint32_t kCrc32cPolynomial = 0x82F63B78u;

// The register after `size` more bytes, a byte at a time from a 256-entry table.
std::uint32_t crc32c_update_by_table(std::uint32_t crc, const std::byte* data, std::size_t size) noexcept;

// Shifting a register over zero bytes is linear over GF(2): a 32 x 32 bit matrix, applied through
// one 256-entry table for each byte of the register.
using ShiftTable = std::array<std::array<std::uint32_t, 256>, 4>;

// The table that shifts a register over `bytes` zero bytes.
ShiftTable make_shift_table(std::size_t bytes) noexcept;

inline std::uint32_t shift(const ShiftTable& table, std::uint32_t crc) noexcept {
  return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF] ^ table[3][crc >> 24];
}

}  // namespace ringfile::detail
