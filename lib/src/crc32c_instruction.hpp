// CRC32C with the crc32 instruction (SSE4.2), a word at a time: the pieces that both crc32c.cpp's
// three streams and crc32c_folding.cpp's folding build on. All of them work on the raw register
// (no pre- or post-inversion; ringfile::crc32c adds them). x86-64 only.
#pragma once

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ringfile::detail {

// Three crc32 registers over three streams `stream_bytes` apart.
struct ThreeStreams {
  std::uint64_t first = 0, second = 0, third = 0;

  // Adds the word at `at` to the first stream, and those stream_bytes and twice that further on
  // to the second and third.
  __attribute__((target("sse4.2"), always_inline)) void add_words(const std::byte* at,
                                                                   std::size_t stream_bytes) noexcept {
    std::uint64_t a, b, c;
    std::memcpy(&a, at, 8);
    std::memcpy(&b, at + stream_bytes, 8);
    std::memcpy(&c, at + 2 * stream_bytes, 8);
    first = _mm_crc32_u64(first, a);
    second = _mm_crc32_u64(second, b);
    third = _mm_crc32_u64(third, c);
  }
};

// One crc32 instruction a word: what is left after the streams or the folding, and all of a
// record under 256 bytes. With `to`, each word is also stored there from the register it is
// folded from (copy_words): for the small records that take this path a call of memcpy cost as
// much as the CRC.
template <bool kCopies>
__attribute__((target("sse4.2"))) inline std::uint32_t crc_words(std::uint32_t crc, std::byte* to, const std::byte* data,
                                                          std::size_t size) noexcept {
  std::uint64_t wide = crc;
  for (; size >= 8; size -= 8, data += 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    if constexpr (kCopies) {
      std::memcpy(to, &word, 8);
      to += 8;
    }
    wide = _mm_crc32_u64(wide, word);
  }
  auto narrow = static_cast<std::uint32_t>(wide);
  for (; size > 0; --size, ++data) {
    if constexpr (kCopies) *to++ = *data;
    narrow = _mm_crc32_u8(narrow, static_cast<std::uint8_t>(*data));
  }
  return narrow;
}

__attribute__((target("sse4.2"))) inline std::uint32_t update_words(std::uint32_t crc, const std::byte* data,
                                                             std::size_t size) noexcept {
  return crc_words<false>(crc, nullptr, data, size);
}
__attribute__((target("sse4.2"))) inline std::uint32_t copy_words(std::uint32_t crc, std::byte* to, const std::byte* data,
                                                           std::size_t size) noexcept {
  return crc_words<true>(crc, to, data, size);
}

}  // namespace ringfile::detail
#endif
