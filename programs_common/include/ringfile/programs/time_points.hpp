// Points in time as people type and read them: ISO 8601 ("2025-03-01T14:05:00Z", with a zone
// offset, or without one in local time), Unix seconds ("@1740837900.5"), "now", or a duration
// ago ("10m-ago", "1.5h-ago", "2d-ago"), from 1970 to 2262-04-11 (nanoseconds since 1970 in 64 bits).
// Printed as ISO 8601 in UTC with nanoseconds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::programs {

using TimePoint = std::chrono::system_clock::time_point;

std::optional<TimePoint> parse_time_point(std::string_view text, TimePoint now = std::chrono::system_clock::now());
// Why `text`, which has the shape of a time, is none, as a one-line error: "'2025-02-30T00:00:00Z'
// is not a date: February 2025 has 28 days", or out of range. nullopt when `text` is a time, or
// nothing like one (the caller says what it takes instead).
std::optional<std::string> explain_unusable_time(std::string_view text);

// "2025-03-01T14:05:00.123456789Z" for nanoseconds since the Unix epoch.
std::string format_utc_time(std::uint64_t nanoseconds_since_epoch);

inline std::uint64_t nanoseconds_since_epoch(TimePoint time) {
  const auto count = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  return count < 0 ? 0 : static_cast<std::uint64_t>(count);
}

}  // namespace ringfile::programs
