#include "ringfile/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ringfile {
namespace {

// Reflected Castagnoli polynomial.
constexpr std::uint32_t kPolynomial = 0x82F63B78u;

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t index = 0; index < 256; ++index) {
    std::uint32_t value = index;
    for (int bit = 0; bit < 8; ++bit) value = (value >> 1) ^ (kPolynomial & (0u - (value & 1u)));
    table[index] = value;
  }
  return table;
}
constexpr auto kTable = make_table();

std::uint32_t crc32c_portable(const std::byte* data, std::size_t size, std::uint32_t crc) noexcept {
  for (std::size_t index = 0; index < size; ++index) {
    crc = kTable[(crc ^ static_cast<std::uint8_t>(data[index])) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t crc32c_sse42(const std::byte* data,
                                                             std::size_t size,
                                                             std::uint32_t crc) noexcept {
  std::uint64_t wide = crc;
  while (size >= 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    wide = _mm_crc32_u64(wide, word);
    data += 8;
    size -= 8;
  }
  auto narrow = static_cast<std::uint32_t>(wide);
  while (size > 0) {
    narrow = _mm_crc32_u8(narrow, static_cast<std::uint8_t>(*data));
    ++data;
    --size;
  }
  return narrow;
}

bool cpu_has_sse42() noexcept {
  static const bool has = __builtin_cpu_supports("sse4.2");
  return has;
}
#endif

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  const std::uint32_t crc = ~seed;
#if defined(__x86_64__)
  if (cpu_has_sse42()) return ~crc32c_sse42(bytes.data(), bytes.size(), crc);
#endif
  return ~crc32c_portable(bytes.data(), bytes.size(), crc);
}

}  // namespace ringfile
