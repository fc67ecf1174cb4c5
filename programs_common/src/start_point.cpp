#include "ringfile/programs/start_point.hpp"

#include <string>

#include "ringfile/programs/time_points.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::programs {

std::optional<StartPoint> parse_start_point(std::string_view text) {
  StartPoint point;
  if (text == "earliest") {
    point.word = StartFrom::earliest;
  } else if (text == "latest") {
    point.word = StartFrom::latest;
  } else if (text == "committed") {
    point.word = StartFrom::committed;
  } else if (const auto position = parse_count(text)) {
    point.seek = Seek::to_position(*position);
  } else if (text.size() > 1 && text[0] == '-' && parse_count(text.substr(1))) {
    const std::uint64_t records = *parse_count(text.substr(1));
    if (records == 0) return std::nullopt;
    point.seek = Seek::last_records(records);
  } else if (const auto time = parse_time_point(text)) {
    point.seek = Seek::to_time(*time);
    point.time_ns = nanoseconds_since_epoch(*time);
  } else {
    return std::nullopt;
  }
  return point;
}

CLI::Validator start_point_validator(bool committed_allowed) {
  return CLI::Validator(
      [committed_allowed](const std::string& text) -> std::string {
        const auto point = parse_start_point(text);
        if (point && (committed_allowed || point->word != StartFrom::committed)) return {};
        if (text == "-0") return "'-0' asks for no record; -N starts at the N-th last record (N at least 1)";
        if (auto problem = explain_unusable_time(text)) return *problem;
        return "'" + text + "' is not " + (committed_allowed ? "committed, " : "") +
               "earliest, latest, a position, -N (the N-th last record) or a time (2025-03-01T14:05:00Z, "
               "@UNIX_SECONDS, 10m-ago)";
      },
      "");
}

}  // namespace ringfile::programs
