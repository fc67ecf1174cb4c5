#include "ringfile/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

#include "crc32c_portable.hpp"

namespace ringfile {
namespace {

// Reflected Castagnoli polynomial. All functions below work on the raw CRC register (no pre- or
// post-inversion); crc32c() adds the inversions.
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

std::uint32_t update_portable(std::uint32_t crc, const std::byte* data, std::size_t size) noexcept {
  for (std::size_t index = 0; index < size; ++index) {
    crc = kTable[(crc ^ static_cast<std::uint8_t>(data[index])) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

#if defined(__x86_64__)
// Buffers from 3 x 256 bytes on run three independent streams, one per third of a block: the
// crc32 instruction has a latency of 3 cycles and a throughput of 1, so three streams keep it
// busy (one stream is a third of the speed: at 4 KiB that made the checksum cost as much as the
// rest of a record's way through the ring). The streams are joined by "shifting" a register over
// the bytes that follow it, which is linear over GF(2): a 32 x 32 bit matrix, applied through
// four 256-entry tables. Long blocks (4 KiB a stream) for large buffers, short ones (256 bytes a
// stream) for medium buffers and the rest of large ones.
constexpr std::size_t kLongStreamBytes = 4096;
constexpr std::size_t kShortStreamBytes = 256;

using Matrix = std::array<std::uint32_t, 32>;  // column j: the image of bit j

std::uint32_t apply(const Matrix& matrix, std::uint32_t vector) noexcept {
  std::uint32_t result = 0;
  for (int bit = 0; vector != 0; ++bit, vector >>= 1) {
    if (vector & 1u) result ^= matrix[bit];
  }
  return result;
}

Matrix multiply(const Matrix& left, const Matrix& right) noexcept {
  Matrix product{};
  for (int column = 0; column < 32; ++column) product[column] = apply(left, right[column]);
  return product;
}

// The operator that advances the register over `bytes` zero bytes.
Matrix zero_bytes_operator(std::size_t bytes) noexcept {
  Matrix one_bit{};
  one_bit[0] = kPolynomial;
  for (int bit = 1; bit < 32; ++bit) one_bit[bit] = 1u << (bit - 1);
  Matrix power = multiply(one_bit, one_bit);   // 2 bits
  power = multiply(power, power);              // 4 bits
  power = multiply(power, power);              // 8 bits: one zero byte
  Matrix result{};
  for (int bit = 0; bit < 32; ++bit) result[bit] = 1u << bit;
  for (; bytes != 0; bytes >>= 1) {
    if (bytes & 1u) result = multiply(power, result);
    power = multiply(power, power);
  }
  return result;
}

using ShiftTable = std::array<std::array<std::uint32_t, 256>, 4>;

ShiftTable make_shift_table(std::size_t bytes) noexcept {
  ShiftTable table{};
  const Matrix shift_operator = zero_bytes_operator(bytes);
  for (int lane = 0; lane < 4; ++lane) {
    for (std::uint32_t value = 0; value < 256; ++value) table[lane][value] = apply(shift_operator, value << (8 * lane));
  }
  return table;
}

// Shifts over one and two streams of a block size.
struct StreamShifts {
  ShiftTable by_one_stream;
  ShiftTable by_two_streams;
};

template <std::size_t kStreamBytes>
const StreamShifts& stream_shifts() noexcept {
  static const StreamShifts shifts{make_shift_table(kStreamBytes), make_shift_table(2 * kStreamBytes)};
  return shifts;
}

std::uint32_t shift(const ShiftTable& table, std::uint32_t crc) noexcept {
  return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF] ^ table[3][crc >> 24];
}

// Three streams over as many whole blocks of 3 x kStreamBytes as there are; advances data/size.
template <std::size_t kStreamBytes>
__attribute__((target("sse4.2"))) std::uint32_t update_three_streams(std::uint32_t crc, const std::byte*& data,
                                                                     std::size_t& size) noexcept {
  if (size < 3 * kStreamBytes) return crc;
  const StreamShifts& shifts = stream_shifts<kStreamBytes>();
  do {
    std::uint64_t first = crc, second = 0, third = 0;
    const std::byte* second_data = data + kStreamBytes;
    const std::byte* third_data = data + 2 * kStreamBytes;
    for (std::size_t offset = 0; offset < kStreamBytes; offset += 8) {
      std::uint64_t a, b, c;
      std::memcpy(&a, data + offset, 8);
      std::memcpy(&b, second_data + offset, 8);
      std::memcpy(&c, third_data + offset, 8);
      first = _mm_crc32_u64(first, a);
      second = _mm_crc32_u64(second, b);
      third = _mm_crc32_u64(third, c);
    }
    crc = shift(shifts.by_two_streams, static_cast<std::uint32_t>(first)) ^
          shift(shifts.by_one_stream, static_cast<std::uint32_t>(second)) ^ static_cast<std::uint32_t>(third);
    data += 3 * kStreamBytes;
    size -= 3 * kStreamBytes;
  } while (size >= 3 * kStreamBytes);
  return crc;
}

__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t crc, const std::byte* data,
                                                             std::size_t size) noexcept {
  crc = update_three_streams<kLongStreamBytes>(crc, data, size);
  crc = update_three_streams<kShortStreamBytes>(crc, data, size);
  std::uint64_t wide = crc;
  for (; size >= 8; size -= 8, data += 8) {
    std::uint64_t word;
    std::memcpy(&word, data, 8);
    wide = _mm_crc32_u64(wide, word);
  }
  auto narrow = static_cast<std::uint32_t>(wide);
  for (; size > 0; --size, ++data) narrow = _mm_crc32_u8(narrow, static_cast<std::uint8_t>(*data));
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
  if (cpu_has_sse42()) return ~update_sse42(crc, bytes.data(), bytes.size());
#endif
  return ~update_portable(crc, bytes.data(), bytes.size());
}

namespace detail {

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  return ~update_portable(~seed, bytes.data(), bytes.size());
}

}  // namespace detail

}  // namespace ringfile
