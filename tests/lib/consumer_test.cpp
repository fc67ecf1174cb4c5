// A consumer's reading (consumer.cpp): what it keeps up in its slot as it reads, records that a
// consumer producers may lap reads through a copy, and what a handler may do to its own consumer.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "ringfile/error.hpp"
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

namespace {

// Ten records "0" to "9": one a frame, or all under one write_batch group.
void write_ten(const Ring& ring, bool as_group) {
  std::vector<std::string> texts;
  for (int index = 0; index < 10; ++index) texts.push_back(std::to_string(index));
  Producer producer(ring);
  if (as_group) {
    std::vector<std::span<const std::byte>> spans;
    for (const std::string& text : texts) spans.push_back(as_bytes(text));
    REQUIRE(producer.write_batch(spans).records == 10);
    return;
  }
  for (const std::string& text : texts) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
}

std::string text_of(const Record& record) {
  return {reinterpret_cast<const char*>(record.payload.data()), record.payload.size()};
}

}  // namespace

TEST_CASE("a handler that detaches its consumer ends the poll, and the slot it left is not written again") {
  // Found by a tester: the poll went on after the handler's detach and stored its cursor in the
  // slot it had freed, which another consumer had taken meanwhile: a named consumer resumed past
  // ten records it never read.
  for (const bool as_group : {false, true}) {
    CAPTURE(as_group);
    TempDir dir;
    Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
    write_ten(ring, as_group);
    Consumer anonymous = Consumer::attach(ring, {.start = StartFrom::earliest});
    std::vector<std::string> read;
    std::optional<std::uint32_t> taken_slot;
    const PollResult polled = anonymous.poll([&](const Record& record) {
      read.push_back(text_of(record));
      if (read.size() == 3) {
        anonymous.detach();
        Consumer billing = Consumer::attach(ring, {.name = "billing", .start = StartFrom::earliest});
        taken_slot = billing.slot();
      }
    });
    CHECK(polled.records == 3);
    CHECK(read == std::vector<std::string>{"0", "1", "2"});
    REQUIRE(taken_slot.has_value());
    Consumer billing = Consumer::attach(ring, {.name = "billing"});
    CHECK(billing.position() == 0);
    std::vector<std::string> billed;
    billing.poll([&](const Record& record) { billed.push_back(text_of(record)); });
    CHECK(billed.size() == 10);
  }
}

TEST_CASE("a handler that polls its own consumer again is refused, and the outer poll reads on as before") {
  // Found by a tester: the inner poll handed out the outer one's record again, and the outer one
  // then skipped the records the inner one had read (one counted lost).
  for (const bool as_group : {false, true}) {
    CAPTURE(as_group);
    TempDir dir;
    Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
    write_ten(ring, as_group);
    Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
    std::vector<std::string> read;
    const PollResult polled = consumer.poll([&](const Record& record) {
      read.push_back(text_of(record));
      if (read.size() == 1) {
        CHECK_THROWS_WITH_AS(consumer.poll([](const Record&) {}), doctest::Contains("inside its own handler"), Error);
      }
    });
    CHECK(polled.records == 10);
    CHECK(read == std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"});
    CHECK(consumer.stats().lost_records == 0);
    // A poll after one whose handler threw is a poll like any other.
    write_ten(ring, as_group);
    const PollResult next = consumer.poll([&](const Record& record) { read.push_back(text_of(record)); });
    CHECK(next.records == 10);
  }
}

TEST_CASE("attach refuses a start or a seek outside their enums with invalid_argument") {
  // Found by a tester: StartFrom 9 left no seek, which attach then read; Seek kind 9 read as latest.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  write_ten(ring, false);
  const auto code_of = [&](const ConsumerOptions& options) {
    try {
      Consumer::attach(ring, options);
    } catch (const Error& error) {
      return error.code();
    }
    return ErrorCode::io_error;
  };
  CHECK(code_of({.start = static_cast<StartFrom>(9)}) == ErrorCode::invalid_argument);
  Seek unknown = Seek::latest();
  unknown.kind = static_cast<Seek::Kind>(9);
  CHECK(code_of({.seek = unknown}) == ErrorCode::invalid_argument);
  CHECK(ring.consumers().empty());
}
