#include "ringfile/programs/time_points.hpp"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <limits>

#include "ringfile/programs/units.hpp"

namespace ringfile::programs {
namespace {

// Reads exactly `digits` decimal digits at `text[*at]`.
std::optional<int> fixed_digits(std::string_view text, std::size_t* at, std::size_t digits) {
  if (*at + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t index = 0; index < digits; ++index) {
    const char digit = text[*at + index];
    if (!std::isdigit(static_cast<unsigned char>(digit))) return std::nullopt;
    value = value * 10 + (digit - '0');
  }
  *at += digits;
  return value;
}

bool take(std::string_view text, std::size_t* at, char expected) {
  if (*at < text.size() && text[*at] == expected) {
    ++*at;
    return true;
  }
  return false;
}

// Days from 1970-01-01 to the civil date (proleptic Gregorian), for UTC without timegm's locale.
std::int64_t days_from_civil(int year, int month, int day) {
  year -= month <= 2 ? 1 : 0;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<std::int64_t>(year - era * 400);
  const std::int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const std::int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

const char* const kMonthNames[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// Nanoseconds since 1970 in 64 bits end at 2262-04-11T23:47:16.854775807Z: later times cannot be
// compared with commit times, earlier than 1970 none is needed.
constexpr std::int64_t kLastSecond = std::numeric_limits<std::int64_t>::max() / 1'000'000'000;
constexpr std::int64_t kLastSecondNanoseconds = std::numeric_limits<std::int64_t>::max() % 1'000'000'000;
constexpr const char* kOutOfRange =
    "is out of range: times go from 1970 to 2262-04-11 (nanoseconds since 1970 in 64 bits)";

// A time read from text: the time, or why text that has the shape of a time is not one
// (`problem`, the end of a one-line error), or neither when it is not a time at all.
struct TimeReading {
  std::optional<TimePoint> time;
  std::string problem;
};

TimeReading in_range(std::int64_t seconds_since_epoch, std::int64_t fraction_ns) {
  if (seconds_since_epoch < 0 || seconds_since_epoch > kLastSecond ||
      (seconds_since_epoch == kLastSecond && fraction_ns > kLastSecondNanoseconds)) {
    return {std::nullopt, kOutOfRange};
  }
  return {TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds_since_epoch) +
                                                                    std::chrono::nanoseconds(fraction_ns))),
          {}};
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.fraction]]][Z|(+|-)HH[:]MM]
TimeReading read_iso8601(std::string_view text) {
  std::size_t at = 0;
  const auto year = fixed_digits(text, &at, 4);
  if (!year || !take(text, &at, '-')) return {};
  const auto month = fixed_digits(text, &at, 2);
  if (!month || !take(text, &at, '-')) return {};
  const auto day = fixed_digits(text, &at, 2);
  if (!day || *month < 1 || *month > 12 || *day < 1 || *day > 31) return {};
  int hour = 0, minute = 0, second = 0;
  std::int64_t fraction_ns = 0;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    ++at;
    const auto hours = fixed_digits(text, &at, 2);
    if (!hours || !take(text, &at, ':')) return {};
    const auto minutes = fixed_digits(text, &at, 2);
    if (!minutes) return {};
    hour = *hours;
    minute = *minutes;
    if (take(text, &at, ':')) {
      const auto seconds = fixed_digits(text, &at, 2);
      if (!seconds) return {};
      second = *seconds;
      if (take(text, &at, '.') || take(text, &at, ',')) {
        std::int64_t scale = 100'000'000;
        std::size_t digits = 0;
        while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at]))) {
          fraction_ns += (text[at] - '0') * scale;
          scale /= 10;
          ++at;
          ++digits;
        }
        if (digits == 0) return {};
      }
    }
    if (hour > 23 || minute > 59 || second > 60) return {};
  }
  std::optional<std::int64_t> offset_seconds;  // nullopt: local time
  if (take(text, &at, 'Z') || take(text, &at, 'z')) {
    offset_seconds = 0;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    const int sign = text[at] == '-' ? -1 : 1;
    ++at;
    const auto offset_hours = fixed_digits(text, &at, 2);
    if (!offset_hours) return {};
    take(text, &at, ':');
    const auto offset_minutes = fixed_digits(text, &at, 2);
    if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return {};
    offset_seconds = sign * (*offset_hours * 3600 + *offset_minutes * 60);
  }
  if (at != text.size()) return {};
  if (*day > days_in_month(*year, *month)) {
    return {std::nullopt, "is not a date: " + std::string(kMonthNames[*month - 1]) + " " + std::to_string(*year) +
                              " has " + std::to_string(days_in_month(*year, *month)) + " days"};
  }
  // Before 1969 no zone brings a time to 1970; in_range judges the rest once the offset is applied.
  if (*year < 1969) return {std::nullopt, kOutOfRange};
  std::int64_t seconds_since_epoch = 0;
  if (offset_seconds) {
    seconds_since_epoch = days_from_civil(*year, *month, *day) * 86400 + hour * 3600 + minute * 60 + second -
                          *offset_seconds;
  } else {
    std::tm local{};
    local.tm_year = *year - 1900;
    local.tm_mon = *month - 1;
    local.tm_mday = *day;
    local.tm_hour = hour;
    local.tm_min = minute;
    local.tm_sec = second;
    local.tm_isdst = -1;  // the zone rules decide whether summer time applies
    const std::time_t converted = std::mktime(&local);
    if (converted == static_cast<std::time_t>(-1)) return {std::nullopt, kOutOfRange};
    seconds_since_epoch = converted;
  }
  return in_range(seconds_since_epoch, fraction_ns);
}

TimeReading read_time_point(std::string_view text, TimePoint now) {
  if (text == "now") return {now, {}};
  constexpr std::string_view kAgo = "-ago";
  if (text.size() > kAgo.size() && text.substr(text.size() - kAgo.size()) == kAgo) {
    const auto duration = parse_duration_with_unit(text.substr(0, text.size() - kAgo.size()));
    if (!duration) return {};
    const auto ago = std::chrono::duration_cast<TimePoint::duration>(*duration);
    if (ago > now.time_since_epoch()) return {std::nullopt, kOutOfRange};  // before 1970
    return {now - ago, {}};
  }
  if (!text.empty() && text[0] == '@') {
    // Unix seconds, as `date -d @SECONDS`: digits, and a fraction.
    const std::string_view number = text.substr(1);
    const std::size_t point = number.find('.');
    const std::string_view whole = number.substr(0, point);
    const std::string_view fraction = point == std::string_view::npos ? std::string_view() : number.substr(point + 1);
    const auto all_digits = [](std::string_view digits) {
      for (const char digit : digits) {
        if (!std::isdigit(static_cast<unsigned char>(digit))) return false;
      }
      return true;
    };
    if (whole.empty() || whole.size() > 12 || !all_digits(whole) || !all_digits(fraction) ||
        (point != std::string_view::npos && fraction.empty())) {
      return {};
    }
    std::int64_t fraction_ns = 0;
    std::int64_t scale = 100'000'000;
    for (std::size_t index = 0; index < fraction.size() && scale > 0; ++index, scale /= 10) {
      fraction_ns += (fraction[index] - '0') * scale;
    }
    return in_range(std::stoll(std::string(whole)), fraction_ns);  // 12 digits: no overflow yet
  }
  return read_iso8601(text);
}

}  // namespace

std::optional<TimePoint> parse_time_point(std::string_view text, TimePoint now) {
  return read_time_point(text, now).time;
}

std::optional<std::string> explain_unusable_time(std::string_view text) {
  TimeReading reading = read_time_point(text, std::chrono::system_clock::now());
  if (reading.problem.empty()) return std::nullopt;
  return "'" + std::string(text) + "' " + reading.problem;
}

std::string format_utc_time(std::uint64_t nanoseconds_since_epoch) {
  const auto seconds = static_cast<std::time_t>(nanoseconds_since_epoch / 1'000'000'000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09lluZ", utc.tm_year + 1900, utc.tm_mon + 1,
                utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<unsigned long long>(nanoseconds_since_epoch % 1'000'000'000));
  return text;
}

}  // namespace ringfile::programs
