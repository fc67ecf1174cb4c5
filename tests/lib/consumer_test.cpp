// What a consumer keeps up in its slot as it reads (consumer.cpp).
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>

#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

// poll() reads the heartbeat's clock at one call in several only (a reading at every call cost a
// ping-pong 10-20 ns a round trip): a consumer that does nothing but poll still beats.
TEST_CASE("a consumer that only polls keeps its heartbeat going") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  const std::uint64_t attached_at = ring.consumers().at(0).heartbeat_ns;
  REQUIRE(attached_at > 0);
  // Beats are 100 ms apart: poll until the next one shows, or fail after far longer.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::uint64_t polls = 0;
  while (ring.consumers().at(0).heartbeat_ns == attached_at && std::chrono::steady_clock::now() < give_up) {
    CHECK(consumer.poll([](const Record&) {}).records == 0);
    polls += 1;
  }
  CHECK(ring.consumers().at(0).heartbeat_ns > attached_at);
  MESSAGE("the heartbeat moved after " << polls << " polls");
}
