// Points in time as people type and read them: ISO 8601 ("2025-03-01T14:05:00Z", with a zone
// offset, or without one in local time), Unix seconds ("@1740837900.5"), "now", or a duration
// ago ("10m-ago", "1.5h-ago", "2d-ago"), from 1970 to 2261 (nanoseconds since 1970 in 64 bits).
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

// "2025-03-01T14:05:00.123456789Z" for nanoseconds since the Unix epoch.
std::string format_utc_time(std::uint64_t nanoseconds_since_epoch);

inline std::uint64_t nanoseconds_since_epoch(TimePoint time) {
  const auto count = std::chrono::duration_cast<std::chrono::nanoseconds>(time.time_since_epoch()).count();
  return count < 0 ? 0 : static_cast<std::uint64_t>(count);
}

}  // namespace ringfile::programs
