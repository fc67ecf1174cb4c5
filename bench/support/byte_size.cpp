#include "support/byte_size.hpp"

#include <array>
#include <charconv>
#include <limits>

namespace ringfile::bench {

namespace {

struct UnitSuffix {
  std::string_view text;
  std::uint64_t multiplier;
};

constexpr std::uint64_t kKi = 1024;
// Longest first, so "MiB" is not taken for "M" followed by junk.
constexpr std::array<UnitSuffix, 17> kSuffixes{{
    {"KiB", kKi},
    {"MiB", kKi* kKi},
    {"GiB", kKi* kKi* kKi},
    {"TiB", kKi* kKi* kKi* kKi},
    {"kB", 1000},
    {"KB", 1000},
    {"MB", 1000 * 1000},
    {"GB", 1000 * 1000 * 1000},
    {"TB", 1000ull * 1000 * 1000 * 1000},
    {"k", kKi},
    {"K", kKi},
    {"M", kKi* kKi},
    {"G", kKi* kKi* kKi},
    {"T", kKi* kKi* kKi* kKi},
    {"B", 1},
    {"b", 1},
    {"", 1},
}};

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) {
  std::uint64_t number = 0;
  const char* const first = text.data();
  const char* const last = text.data() + text.size();
  const auto [number_end, error] = std::from_chars(first, last, number);
  if (error != std::errc{} || number_end == first) return std::nullopt;
  const std::string_view suffix(number_end, static_cast<std::size_t>(last - number_end));
  for (const UnitSuffix& unit : kSuffixes) {
    if (suffix != unit.text) continue;
    if (number > std::numeric_limits<std::uint64_t>::max() / unit.multiplier) return std::nullopt;
    return number * unit.multiplier;
  }
  return std::nullopt;
}

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
