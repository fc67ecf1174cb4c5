#include "crc32c_register.hpp"

namespace ringfile::detail {
namespace {

constexpr std::array<std::uint32_t, 256> make_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t index = 0; index < 256; ++index) {
    std::uint32_t value = index;
    for (int bit = 0; bit < 8; ++bit) value = (value >> 1) ^ (kCrc32cPolynomial & (0u - (value & 1u)));
    table[index] = value;
  }
  return table;
}
constexpr auto kTable = make_table();

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
  one_bit[0] = kCrc32cPolynomial;
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

}  // namespace

std::uint32_t crc32c_update_by_table(std::uint32_t crc, const std::byte* data, std::size_t size) noexcept {
  for (std::size_t index = 0; index < size; ++index) {
    crc = kTable[(crc ^ static_cast<std::uint8_t>(data[index])) & 0xFF] ^ (crc >> 8);
  }
  return crc;
}

ShiftTable make_shift_table(std::size_t bytes) noexcept {
  ShiftTable table{};
  const Matrix shift_operator = zero_bytes_operator(bytes);
  for (int lane = 0; lane < 4; ++lane) {
    for (std::uint32_t value = 0; value < 256; ++value) table[lane][value] = apply(shift_operator, value << (8 * lane));
  }
  return table;
}

}  // namespace ringfile::detail
