// CRC32C where the ring's hot paths are better served than by crc32c(), which is fastest on
// bytes already in this core's cache: a producer copying a payload into the ring checksums it on
// the way, and a consumer checks bytes another core wrote (or that come from memory) in one pass
// front to back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfile {

// Copies `source` to `destination` (as many bytes, not overlapping) and returns the CRC32C of
// `source`, the same value as crc32c(source). The copy waits on its stores, and the checksum's
// arithmetic fits in that wait.
std::uint32_t copy_with_crc32c(std::byte* destination, std::span<const std::byte> source) noexcept;

// The same value as crc32c(bytes), read front to back: the hardware prefetcher follows one
// front, not the four of crc32c()'s loop from 4 KiB on (folding beside three crc32 streams).
std::uint32_t crc32c_front_to_back(std::span<const std::byte> bytes) noexcept;

// Whether this CPU folds on 512-bit registers (AVX-512 VPCLMULQDQ). There a checksum pass over
// bytes in this core's cache costs what copy_with_crc32c does (4 KiB: 78 ns and 79, memcpy 34;
// bench/README.md), so a claim filled in place and checksummed at commit beats one filled in a
// buffer and copied in with its checksum: the buffer's fill is the extra copy.
bool crc32c_folds_wide() noexcept;

}  // namespace ringfile
