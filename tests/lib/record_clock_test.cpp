// Record timestamps read through the TSC (record_clock.hpp): CLOCK_REALTIME within far less than
// a millisecond, never going back within a producer, and the counter really in use where the
// kernel keeps time with it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>

#include "clock.hpp"
#include "record_clock.hpp"

using ringfile::detail::RecordClock;
using ringfile::detail::realtime_ns;

namespace {

// Read here on its own, not through the library: the test checks the library's choice.
bool clocksource_is_tsc() {
  std::ifstream file("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string name;
  return std::getline(file, name) && name == "tsc";
}

}  // namespace

TEST_CASE("record timestamps follow CLOCK_REALTIME, past calibration and several re-anchors, and never go back") {
  constexpr std::uint64_t kTolerance = 1'000'000;  // far above the error the anchors allow (microseconds)
  RecordClock clock;
  const std::uint64_t start = realtime_ns();
  std::uint64_t last = 0;
  std::uint64_t stamps = 0;
  std::uint64_t worst_ns = 0;  // furthest a stamp fell outside [before, after]
  bool counted = false;
  // 60 ms of the clock: the 10 ms calibration, then five re-anchors.
  for (std::uint64_t before = start; before < start + 60'000'000; ++stamps) {
    before = realtime_ns();
    const std::uint64_t stamp = clock.now_ns();
    const std::uint64_t after = realtime_ns();
    counted = counted || clock.counting();
    REQUIRE(stamp + kTolerance >= before);
    REQUIRE(stamp <= after + kTolerance);
    REQUIRE(stamp >= last);
    last = stamp;
    worst_ns = std::max({worst_ns, before > stamp ? before - stamp : 0, stamp > after ? stamp - after : 0});
  }
  MESSAGE(stamps << " stamps, at most " << worst_ns << " ns outside the clock's readings around them; counter used: "
                 << std::string(counted ? "yes" : "no"));
  if (clocksource_is_tsc()) {
    CHECK(counted);
  } else {
    CHECK_FALSE(counted);
  }
}
