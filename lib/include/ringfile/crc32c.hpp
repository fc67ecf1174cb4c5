// CRC32C (Castagnoli), the checksum of record payloads and of the file identity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfile {

// Folds with carry-less multiplication (VPCLMULQDQ) where the CPU has it, from 4 KiB on while the
// crc32 instruction runs three streams over part of each 4 KiB; else uses the SSE4.2 crc32
// instruction, three streams at a time on large buffers. Fastest on bytes in this core's cache.
// `seed` is a previous result, to checksum a buffer in pieces.
std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed = 0) noexcept;

}  // namespace ringfile
