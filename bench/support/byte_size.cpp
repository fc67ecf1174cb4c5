#include "support/byte_size.hpp"

#include <array>

namespace ringfile::bench {

namespace {

constexpr std::uint64_t kKi = 1024;

}  // namespace

std::string format_byte_size(std::uint64_t bytes) {
  constexpr std::array<std::string_view, 4> kBinaryUnits{"TiB", "GiB", "MiB", "KiB"};
  std::uint64_t unit_bytes = kKi * kKi * kKi * kKi;
  for (std::string_view unit : kBinaryUnits) {
    if (bytes >= unit_bytes && bytes % unit_bytes == 0) {
      return std::to_string(bytes / unit_bytes) + " " + std::string(unit);
    }
    unit_bytes /= kKi;
  }
  return std::to_string(bytes) + " B";
}

}  // namespace ringfile::bench
