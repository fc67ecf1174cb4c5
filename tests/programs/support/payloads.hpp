// Payloads for the round-trip tests of the programs and the bridge.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace ringfile::program_test {

// A payload as `--format frames` carries it: its length in 4 bytes, little-endian, then itself.
inline std::string frame(const std::string& payload) {
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::string framed{static_cast<char>(length & 0xff), static_cast<char>(length >> 8 & 0xff),
                     static_cast<char>(length >> 16 & 0xff), static_cast<char>(length >> 24 & 0xff)};
  return framed + payload;
}

inline std::string random_bytes(std::mt19937_64& random, std::size_t size) {
  std::string bytes(size, '\0');
  for (auto& byte : bytes) byte = static_cast<char>(random());
  return bytes;
}

}  // namespace ringfile::program_test
