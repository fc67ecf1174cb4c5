// The ways to CRC32C besides the one ringfile::crc32c picks for this CPU, so that the tests check
// each against the others: a byte at a time from a table (the fallback on CPUs without SSE4.2),
// the crc32 instruction in three streams (the fallback on CPUs without VPCLMULQDQ), folding on
// 256-bit registers (what crc32c does below 4 KiB, and after its last whole 4 KiB block, on CPUs
// without AVX-512), the same fused with crc32 streams, and folding on 512-bit registers (all of
// crc32c where the CPU has AVX-512 VPCLMULQDQ).
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

// Folding and three crc32 streams at once over each 4 KiB block (crc32c on CPUs with VPCLMULQDQ
// and without AVX-512); the portable one where the CPU has no VPCLMULQDQ.
std::uint32_t crc32c_fused(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// The portable one where the CPU has no AVX-512 VPCLMULQDQ.
std::uint32_t crc32c_wide_folding(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

// copy_with_crc32c on 256-bit registers, as on CPUs without AVX-512; copy_with_crc32c itself
// where the CPU has no VPCLMULQDQ.
std::uint32_t copy_with_crc32c_folding(std::byte* destination, std::span<const std::byte> source) noexcept;

}  // namespace ringfile::detail
