// Sizes, durations and rates as people type and read them: 512K, 64M, 8G, 1T (powers of 1024;
// plain numbers are bytes), 500ms, 30s, 5m (plain numbers are seconds).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::programs {

// "4096", "512K", "64M", "1.5G", "8GiB", "1T". Suffixes K M G T P (either case, optionally
// followed by "iB") are powers of 1024; "B" alone is bytes. "MB" and the like are refused: they
// mean 10^6 to some and 2^20 to others.
std::optional<std::uint64_t> parse_byte_size(std::string_view text);
// Why `text` is not a size, as the end of a one-line error: "'16MB' is ambiguous ...".
std::string explain_bad_size(std::string_view text);

// A whole number, 0 or more, in decimal digits only ("1000"; not "-1", "1.5", "1e3", "1K").
std::optional<std::uint64_t> parse_count(std::string_view text);

// "250us", "500ms", "30s", "5m", "2h", "7d", "1.5s"; a plain number is seconds.
std::optional<std::chrono::nanoseconds> parse_duration(std::string_view text);
// Why `text` is not a duration (too long, or not one), as the end of a one-line error.
std::string explain_bad_duration(std::string_view text);
// As parse_duration, but a unit is required: for options that take a duration *or* a count/size.
std::optional<std::chrono::nanoseconds> parse_duration_with_unit(std::string_view text);

// A target rate: records per second ("50000") or bytes per second ("200M", "200M/s", "1GiB/s").
struct Rate {
  double per_second = 0;
  bool in_bytes = false;
};
std::optional<Rate> parse_rate(std::string_view text);

// A size, or a range of sizes "64-4K" (inclusive).
struct SizeRange {
  std::uint64_t min_bytes = 0;
  std::uint64_t max_bytes = 0;
  bool is_range() const noexcept { return min_bytes != max_bytes; }
};
std::optional<SizeRange> parse_size_range(std::string_view text);

// "0640" -> 0640.
std::optional<unsigned> parse_file_mode(std::string_view text);

// For people: "1.5 GiB", "812.3 MiB/s", "1.6 M", "1.52 s".
std::string format_bytes(double bytes);
// `bytes` as format_bytes shows it, or exactly ("1048536 bytes") where `other`, shown beside it
// for comparison, differs but rounds to the same text: "1.0 MiB (asked 1.0 MiB)" contradicts
// itself. Call it for both sides: format_bytes_beside(a, b) ... format_bytes_beside(b, a).
std::string format_bytes_beside(std::uint64_t bytes, std::uint64_t other);
// `bytes` as format_bytes shows it where that is exact ("1.5 KiB"), else exactly ("65496 bytes"):
// for a limit, which "64.0 KiB" would misstate (found by a tester).
std::string format_bytes_exact(std::uint64_t bytes);
std::string format_byte_rate(double bytes_per_second);
std::string format_count(double count);  // 1234 -> "1234", 1234567 -> "1.23 M"
// "1 record", "2 records": `count` and `noun`, plural but for one.
std::string count_of(std::uint64_t count, std::string_view noun);
std::string format_seconds(double seconds);
std::string format_duration(std::chrono::nanoseconds duration);

inline double to_seconds(std::chrono::nanoseconds duration) {
  return std::chrono::duration<double>(duration).count();
}

}  // namespace ringfile::programs
