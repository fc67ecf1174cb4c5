#include "ringfile/programs/units.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ringfile::programs {
namespace {

// Below 2^64 bytes, and below 2^63 nanoseconds (about 292 years), with room for rounding.
constexpr double kBytesPastCount = 1.8e19;
constexpr double kNanosecondsPastCount = 9.2e18;

// The leading decimal number of `text` ("1.5" of "1.5G"); its length goes to `consumed`.
std::optional<double> leading_number(std::string_view text, std::size_t* consumed) {
  std::size_t index = 0;
  bool digits = false;
  while (index < text.size() && std::isdigit(static_cast<unsigned char>(text[index]))) {
    ++index;
    digits = true;
  }
  if (index < text.size() && text[index] == '.') {
    ++index;
    while (index < text.size() && std::isdigit(static_cast<unsigned char>(text[index]))) {
      ++index;
      digits = true;
    }
  }
  if (!digits) return std::nullopt;
  *consumed = index;
  // strtod needs a terminated string; numbers here are short.
  const std::string number(text.substr(0, index));
  return std::strtod(number.c_str(), nullptr);
}

// The power of 1024 named by a size suffix ("", "K", "KiB", "kb", "M", ...), or nullopt.
std::optional<double> size_multiplier(std::string_view suffix) {
  if (suffix.empty() || suffix == "B" || suffix == "b") return 1.0;
  static constexpr std::string_view kLetters = "KMGTP";
  const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(suffix[0])));
  const std::size_t exponent = kLetters.find(letter);
  if (exponent == std::string_view::npos) return std::nullopt;
  const std::string_view rest = suffix.substr(1);
  if (!rest.empty() && rest != "iB" && rest != "ib") return std::nullopt;
  return std::pow(1024.0, static_cast<double>(exponent + 1));
}

std::optional<double> duration_unit_seconds(std::string_view unit) {
  if (unit == "ns") return 1e-9;
  if (unit == "us") return 1e-6;
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  if (unit == "m" || unit == "min") return 60.0;
  if (unit == "h") return 3600.0;
  if (unit == "d") return 86400.0;
  return std::nullopt;
}

// A size read once: its bytes, or why it has none.
struct SizeReading {
  enum class Refusal { none, not_a_size, decimal_unit, fraction_of_a_byte, past_64_bits };
  std::optional<std::uint64_t> bytes;
  Refusal refusal = Refusal::none;
};

// "MB", "kb" and the like: powers of 1000 to some, of 1024 to others.
bool is_decimal_unit(std::string_view suffix) {
  return suffix.size() == 2 && (suffix[1] == 'B' || suffix[1] == 'b') &&
         std::string_view("KMGTPkmgtp").find(suffix[0]) != std::string_view::npos;
}

SizeReading read_byte_size(std::string_view text) {
  using enum SizeReading::Refusal;
  std::size_t consumed = 0;
  const auto number = leading_number(text, &consumed);
  if (!number) return {.refusal = not_a_size};
  const std::string_view suffix = text.substr(consumed);
  const auto multiplier = size_multiplier(suffix);
  if (!multiplier) return {.refusal = is_decimal_unit(suffix) ? decimal_unit : not_a_size};
  // "100.7" bytes is a slip, not a size; "1.5K" is a whole 1536, "1.1K" (1126.4 bytes) and
  // "1.0000001M" are not, and rounded silently they would be another size than the one written
  // (found by a tester). A fraction that makes whole bytes with a power of 1024 is a power of two's
  // (0.5, 0.25, ...): exact in a double, so the product is exactly whole where it should be.
  const double bytes = *number * *multiplier;
  if (bytes != std::floor(bytes)) return {.refusal = fraction_of_a_byte};
  if (bytes >= kBytesPastCount) return {.refusal = past_64_bits};
  return {.bytes = static_cast<std::uint64_t>(bytes)};
}

// A duration read once: the nanoseconds, or none; `too_long` when the text is a duration past
// what 64 bits of nanoseconds hold, rather than not a duration at all.
struct DurationReading {
  std::optional<std::chrono::nanoseconds> duration;
  bool too_long = false;
};

DurationReading read_duration(std::string_view text, bool unit_required) {
  std::size_t consumed = 0;
  const auto number = leading_number(text, &consumed);
  if (!number) return {};
  const std::string_view unit = text.substr(consumed);
  if (unit.empty() && unit_required) return {};
  const auto unit_seconds = unit.empty() ? std::optional<double>(1.0) : duration_unit_seconds(unit);
  if (!unit_seconds) return {};
  const double nanoseconds = *number * *unit_seconds * 1e9;
  if (nanoseconds >= kNanosecondsPastCount) return {.too_long = true};
  return {.duration = std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(nanoseconds)))};
}

std::string printf_string(const char* format, double value, const char* unit) {
  char text[64];
  std::snprintf(text, sizeof text, format, value, unit);
  return text;
}

// `bytes` in the unit format_bytes shows it in: the number, and the unit's index in kByteUnits.
struct ScaledBytes {
  double value;
  int unit;
};
constexpr const char* kByteUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

ScaledBytes scale_bytes(double bytes) {
  int unit = 0;
  // 1023.95 and up would print as 1024.0 of this unit: one of the next.
  while (std::fabs(bytes) >= (unit == 0 ? 1024 : 1023.95) && unit < 5) {
    bytes /= 1024;
    ++unit;
  }
  return {bytes, unit};
}

}  // namespace

std::optional<std::uint64_t> parse_byte_size(std::string_view text) { return read_byte_size(text).bytes; }

std::string explain_bad_size(std::string_view text) {
  switch (read_byte_size(text).refusal) {
    case SizeReading::Refusal::fraction_of_a_byte:
      return "'" + std::string(text) + "' is not a whole number of bytes";
    case SizeReading::Refusal::past_64_bits:
      return "'" + std::string(text) + "' is more bytes than a 64-bit count holds";
    case SizeReading::Refusal::decimal_unit: {
      // The unit is the last two characters ("16MB").
      const std::string number(text.substr(0, text.size() - 2));
      const std::string letter(1, static_cast<char>(std::toupper(static_cast<unsigned char>(text[text.size() - 2]))));
      return "'" + std::string(text) + "' is ambiguous (" + letter + "B is a power of 1000 to some, of 1024 to " +
             "others); sizes here are powers of 1024: write " + number + letter + " or " + number + letter + "iB";
    }
    default:
      return "'" + std::string(text) + "' is not a size; write bytes or a number with K, M, G or T (e.g. 512K, 64M, 8G)";
  }
}

std::optional<std::uint64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  for (const char digit : text) {
    if (!std::isdigit(static_cast<unsigned char>(digit))) return std::nullopt;
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, static_cast<std::uint64_t>(digit - '0'), &value)) {
      return std::nullopt;  // beyond 2^64
    }
  }
  return value;
}

std::string explain_bad_duration(std::string_view text) {
  if (read_duration(text, false).too_long) {
    return "'" + std::string(text) + "' is too long; durations go up to 292 years (106000d)";
  }
  return "'" + std::string(text) + "' is not a duration; write a number with ms, s, m, h or d (e.g. 500ms, 30s, 5m)";
}

std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  return read_duration(text, false).duration;
}

std::optional<std::chrono::nanoseconds> parse_duration_with_unit(std::string_view text) {
  return read_duration(text, true).duration;
}

std::optional<Rate> parse_rate(std::string_view text) {
  std::size_t consumed = 0;
  const auto number = leading_number(text, &consumed);
  if (!number || *number <= 0) return std::nullopt;
  std::string_view suffix = text.substr(consumed);
  if (suffix.size() >= 2 && suffix.substr(suffix.size() - 2) == "/s") suffix.remove_suffix(2);
  if (suffix.empty()) return Rate{*number, false};
  const auto multiplier = size_multiplier(suffix);
  if (!multiplier) return std::nullopt;
  return Rate{*number * *multiplier, true};
}

std::optional<SizeRange> parse_size_range(std::string_view text) {
  const std::size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    const auto bytes = parse_byte_size(text);
    if (!bytes) return std::nullopt;
    return SizeRange{*bytes, *bytes};
  }
  const auto low = parse_byte_size(text.substr(0, dash));
  const auto high = parse_byte_size(text.substr(dash + 1));
  if (!low || !high || *low > *high) return std::nullopt;
  return SizeRange{*low, *high};
}

std::optional<unsigned> parse_file_mode(std::string_view text) {
  if (text.empty() || text.size() > 4) return std::nullopt;
  unsigned mode = 0;
  for (const char digit : text) {
    if (digit < '0' || digit > '7') return std::nullopt;
    mode = mode * 8 + static_cast<unsigned>(digit - '0');
  }
  // Permissions only: setuid, setgid and the sticky bit mean nothing on a ring.
  if (mode > 0777) return std::nullopt;
  return mode;
}

std::string format_bytes(double bytes) {
  const ScaledBytes scaled = scale_bytes(bytes);
  return printf_string(scaled.unit == 0 ? "%.0f %s" : "%.1f %s", scaled.value, kByteUnits[scaled.unit]);
}

std::string format_bytes_exact(std::uint64_t bytes) {
  const std::uint64_t unit_bytes = std::uint64_t{1} << (10 * scale_bytes(static_cast<double>(bytes)).unit);
  // One decimal of the unit: exact where a tenth of it divides ten times the bytes.
  const bool exact = unit_bytes == 1 || (static_cast<unsigned __int128>(bytes) * 10) % unit_bytes == 0;
  return exact ? format_bytes(static_cast<double>(bytes)) : std::to_string(bytes) + " bytes";
}

std::string format_bytes_beside(std::uint64_t bytes, std::uint64_t other) {
  const std::string rounded = format_bytes(static_cast<double>(bytes));
  if (bytes == other || rounded != format_bytes(static_cast<double>(other))) return rounded;
  return std::to_string(bytes) + " bytes";
}

std::string format_byte_rate(double bytes_per_second) { return format_bytes(bytes_per_second) + "/s"; }

std::string format_count(double count) {
  if (std::fabs(count) < 10'000) return printf_string("%.0f%s", count, "");
  if (std::fabs(count) < 1e6) return printf_string("%.1f %s", count / 1e3, "k");
  if (std::fabs(count) < 1e9) return printf_string("%.2f %s", count / 1e6, "M");
  return printf_string("%.2f %s", count / 1e9, "G");
}

std::string count_of(std::uint64_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

std::string format_seconds(double seconds) {
  if (!std::isfinite(seconds)) return "-";
  if (seconds == 0) return "0 s";
  if (seconds < 1e-3) return printf_string("%.0f %s", seconds * 1e6, "us");
  if (seconds < 1.0) return printf_string("%.0f %s", seconds * 1e3, "ms");
  if (seconds < 120.0) return printf_string(seconds == std::floor(seconds) ? "%.0f %s" : "%.2f %s", seconds, "s");
  if (seconds < 7200.0) return printf_string("%.1f %s", seconds / 60, "min");
  return printf_string("%.1f %s", seconds / 3600, "h");
}

std::string format_duration(std::chrono::nanoseconds duration) { return format_seconds(to_seconds(duration)); }

}  // namespace ringfile::programs
