// A consumer's reading (consumer.cpp): what it keeps up in its slot as it reads, and records
// that a consumer producers may lap reads through a copy.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

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

// A consumer that does not hold back reads each payload through a copy, which it then checks was
// not overwritten meanwhile. An empty payload read first, before the copy's buffer ever held a
// byte, once read as overwritten, and poll tried the same record again without end.
TEST_CASE("a consumer producers may lap reads empty records, alone and in a batch") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  const std::string hello = "hello";
  REQUIRE(producer.write({}) == ClaimStatus::ok);
  REQUIRE(producer.write(as_bytes(hello)) == ClaimStatus::ok);
  const std::uint64_t batch_position = ring.head_position();
  const std::array<std::span<const std::byte>, 3> batch{std::span<const std::byte>{}, as_bytes(hello),
                                                        std::span<const std::byte>{}};
  REQUIRE(producer.write_batch(batch).records == batch.size());

  // This one's first copy is the batch's first record, read in a group.
  ConsumerOptions tap_options{.start_position = batch_position, .holds_back = false};
  Consumer batch_tap = Consumer::attach(ring, tap_options);
  CHECK(drain(batch_tap) == std::vector<std::string>{"", "hello", ""});
  tap_options.start_position.reset();
  tap_options.start = StartFrom::earliest;
  Consumer tap = Consumer::attach(ring, tap_options);
  CHECK(drain(tap) == std::vector<std::string>{"", "hello", "", "hello", ""});
  CHECK(tap.stats().lapped_count == 0);
  CHECK(batch_tap.stats().lapped_count == 0);
}
