// A place in a ring to read from: where a consumer starts (ConsumerOptions::seek) or where an
// operator moves a named consumer's saved cursor (reset_consumer in consumer_table.hpp).
//
// Found without reading the ring from end to end: a time by binary search over positions (every
// frame carries its commit time and its own position), the N-th last record by stepping back
// about N records and counting forward. The cost grows with log(capacity) and with N, never with
// the ring's size; docs/seeking.md says how, and what "first record at or after a time" means
// when several producers commit concurrently.
#pragma once

#include <chrono>
#include <cstdint>

namespace ringfile {

struct Seek {
  enum class Kind {
    earliest,      // the oldest record still intact in the ring
    latest,        // the head: only records committed from now on
    position,      // a record boundary (as reported by a consumer or ringfile-status)
    time,          // the first record committed at or after `time`; the head if none is
    last_records,  // the `records`-th last record; the oldest when the ring holds fewer
  };

  Kind kind = Kind::latest;
  std::uint64_t position = 0;
  // position: a position inside a record is refused (Error invalid_argument, naming the next
  // boundary) unless this is set, which starts at the first boundary at or after it.
  bool next_boundary = false;
  std::chrono::system_clock::time_point time{};  // CLOCK_REALTIME, as producers stamp records
  std::uint64_t records = 0;

  static Seek earliest() noexcept { return Seek{.kind = Kind::earliest}; }
  static Seek latest() noexcept { return Seek{.kind = Kind::latest}; }
  static Seek to_position(std::uint64_t position, bool next_boundary = false) noexcept {
    return Seek{.kind = Kind::position, .position = position, .next_boundary = next_boundary};
  }
  static Seek to_time(std::chrono::system_clock::time_point time) noexcept {
    return Seek{.kind = Kind::time, .time = time};
  }
  static Seek last_records(std::uint64_t records) noexcept {
    return Seek{.kind = Kind::last_records, .records = records};
  }
};

}  // namespace ringfile
