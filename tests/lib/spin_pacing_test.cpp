// The pacing of a spinning consumer's looks (lib/src/spin_pacing.hpp).
#include <doctest/doctest.h>

#include "spin_pacing.hpp"

namespace ringfile::detail {

TEST_CASE("spin pacing: the pauses a look waits come to about kLookIntervalNs") {
  CHECK(pauses_per_look_for(19.4) == 5);  // the pause measured on one Xeon
  CHECK(pauses_per_look_for(25.0) == 4);
  CHECK(pauses_per_look_for(kLookIntervalNs) == 1);
}

TEST_CASE("spin pacing: a slow pause or none measured still looks after one") {
  CHECK(pauses_per_look_for(0.0) == 1);
  CHECK(pauses_per_look_for(-3.0) == 1);
  CHECK(pauses_per_look_for(400.0) == 1);  // a pause longer than the interval (or a run preempted)
}

TEST_CASE("spin pacing: a pause too short to time waits at most kMostPausesPerLook") {
  CHECK(pauses_per_look_for(0.5) == kMostPausesPerLook);
  CHECK(pauses_per_look_for(1e-9) == kMostPausesPerLook);
}

TEST_CASE("spin pacing: this CPU's count is measured once, within the bounds") {
  const std::uint32_t first = pauses_per_look();
  CHECK(first >= 1);
  CHECK(first <= kMostPausesPerLook);
  CHECK(pauses_per_look() == first);
}

}  // namespace ringfile::detail
