// Where a consumer starts reading (ringfile-consumer --from, ringfile-bridge out --from) or a
// saved cursor is moved to (ringfile-consumer --to): one syntax for every program.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "ringfile/consumer.hpp"
#include "ringfile/seek.hpp"

namespace ringfile::programs {

// A word (earliest, latest, committed), a position a consumer or ringfile-status reported, -N
// for the N-th last record, or a time (2025-03-01T14:05:00Z, @UNIX_SECONDS, 10m-ago).
struct StartPoint {
  std::optional<StartFrom> word;         // earliest, latest, committed
  std::optional<Seek> seek;              // a position, -N or a time
  std::optional<std::uint64_t> time_ns;  // the time given, in nanoseconds since the epoch
};

std::optional<StartPoint> parse_start_point(std::string_view text);

// Checks an option's text with parse_start_point (a one-line error listing what is accepted);
// `committed_allowed` false refuses the word committed.
CLI::Validator start_point_validator(bool committed_allowed);

}  // namespace ringfile::programs
