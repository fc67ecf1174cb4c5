// Record timestamps read through the TSC (record_clock.hpp): CLOCK_REALTIME within far less than
// a millisecond, never going back within a producer, and the counter really in use where the
// kernel keeps time with it (the clocksource "tsc", or "kvm-clock" over an invariant TSC).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>

#include "clock.hpp"
#include "record_clock.hpp"

using ringfile::detail::RecordClock;
using ringfile::detail::realtime_ns;

namespace {

// Read here on its own, not through the library: the test checks the library's choice. The
// kernel keeps time with the TSC where its clocksource is "tsc", or "kvm-clock" on a CPU whose
// counter is invariant (record_clock.hpp).
bool kernel_keeps_time_with_tsc() {
  std::ifstream source_file("/sys/devices/system/clocksource/clocksource0/current_clocksource");
  std::string source;
  if (!std::getline(source_file, source)) return false;
  if (source == "tsc") return true;
  if (source != "kvm-clock") return false;
  // Every CPU's "flags" line lists the features all have: any one of them tells.
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string text((std::istreambuf_iterator<char>(cpuinfo)), std::istreambuf_iterator<char>());
  const auto listed = [&](const std::string& flag) {
    return text.find(" " + flag + " ") != std::string::npos || text.find(" " + flag + "\n") != std::string::npos;
  };
  return listed("constant_tsc") && listed("nonstop_tsc");
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
  if (kernel_keeps_time_with_tsc()) {
    CHECK(counted);
  } else {
    CHECK_FALSE(counted);
  }
}

TEST_CASE("record timestamps never go back when the producer's thread moves between CPUs") {
  // Where the counter is used, the CPUs' counters may differ a little (record_clock.hpp): a stamp
  // taken on a CPU whose counter is behind must not fall below the last one.
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  REQUIRE(::sched_getaffinity(0, sizeof allowed, &allowed) == 0);
  std::vector<int> cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &allowed)) cpus.push_back(cpu);
  }
  if (cpus.size() < 2) {
    MESSAGE("skipped: this process may run on one CPU only");
    return;
  }
  constexpr std::uint64_t kTolerance = 1'000'000;
  std::uint64_t stamps = 0, backwards = 0, outside = 0, moves_refused = 0;
  bool counted = false;
  // Its own thread, so that the test runner's stays where it was.
  std::thread mover([&] {
    RecordClock clock;
    std::uint64_t last = 0;
    const std::uint64_t start = realtime_ns();
    // 60 ms: the calibration, then moves with the counter in use.
    for (std::uint64_t before = start; before < start + 60'000'000; ++stamps) {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(cpus[stamps % cpus.size()], &one);
      if (::sched_setaffinity(0, sizeof one, &one) != 0) ++moves_refused;
      before = realtime_ns();
      const std::uint64_t stamp = clock.now_ns();
      const std::uint64_t after = realtime_ns();
      counted = counted || clock.counting();
      if (stamp < last) ++backwards;
      if (stamp + kTolerance < before || stamp > after + kTolerance) ++outside;
      last = std::max(last, stamp);
    }
  });
  mover.join();
  MESSAGE(stamps << " stamps over " << cpus.size() << " CPUs; counter used: " << std::string(counted ? "yes" : "no"));
  CHECK(moves_refused == 0);
  CHECK(backwards == 0);
  CHECK(outside == 0);
}
