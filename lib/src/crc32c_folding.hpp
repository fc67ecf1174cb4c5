// CRC32C by folding with carry-less multiplication, the ways crc32c.cpp picks on CPUs with
// VPCLMULQDQ. All of them work on the raw register (no pre- or post-inversion; ringfile::crc32c
// adds them) and need the CPU features of their target attribute. x86-64 only.
#pragma once

#if defined(__x86_64__)
#include <cstddef>
#include <cstdint>

namespace ringfile::detail {

// Folding on 256-bit registers (AVX2 VPCLMULQDQ): the register after `size` more bytes.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_folding(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept;

// update_folding that also copies the bytes to `to` (not overlapping), from the registers it
// folds them from.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t copy_folding(
    std::uint32_t crc, std::byte* to, const std::byte* data, std::size_t size) noexcept;

// The same on 512-bit registers (AVX-512 VPCLMULQDQ): half the instructions a byte.
__attribute__((target("avx512f,avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_wide_folding(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept;
__attribute__((target("avx512f,avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t copy_wide_folding(
    std::uint32_t crc, std::byte* to, const std::byte* data, std::size_t size) noexcept;

// Each 4 KiB block folded on 256-bit registers and run through three crc32 streams at once
// (different units of the core); update_folding for the rest.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_fused(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept;

}  // namespace ringfile::detail
#endif
