// What the fuzzer (tests/fuzz) found in files a writer can craft, one regression test each:
// every one of them ends in an error code or a reported loss, never a hang or a crash.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "atomics.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

format::FileHeader& header_of(const Ring& ring) { return detail::file_of(ring).header(); }

void write_records(Ring& ring, int count) {
  Producer producer(ring);
  for (int index = 0; index < count; ++index) {
    REQUIRE(producer.write(as_bytes("record " + std::to_string(index))) == ClaimStatus::ok);
  }
}

}  // namespace

TEST_CASE("a preparation frontier more than a lap ahead of the head: poll reports it instead of skipping forever") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  write_records(ring, 10);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  // Found by consumer_fuzz: every position looked overwritten, and skipping ahead never ended.
  auto& header = header_of(ring);
  header.preparation.preparing_end = header.head_position.value + 3 * ring.info().capacity_bytes;
  for (int poll = 0; poll < 3; ++poll) {
    const PollResult polled = consumer.poll([](const Record&) {});
    CHECK(polled.status == PollStatus::corrupt);
    CHECK(polled.records == 0);
    CHECK(polled.error_message.find("more than a lap ahead of the head") != std::string::npos);
  }
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(0)) == false);  // wait() returns at once, for poll to report
}

TEST_CASE("a dead producer's claim that ends off the 8-byte grid is not followed") {
  // Found by tap_fuzz: a read-only tap stepped over the claim to its end, then read a frame at
  // an odd address (undefined behaviour; a fault on strict-alignment machines).
  TempDir dir;
  CreateOptions options = small_ring(64 * 1024, WriterPolicy::block, 1024);
  options.unblock_timeout = std::chrono::milliseconds(50);
  Ring ring = Ring::create(dir / "ring", options);
  write_records(ring, 3);
  const std::uint64_t head = ring.head_position();
  auto& header = header_of(ring);
  header.head_position.value = head + 64;  // reserved by a producer that died before committing
  auto& slot = header.producers[7];
  slot.owner_pid = 0;  // nobody
  slot.claim_start = head;
  slot.claim_end = head + 41;
  slot.state = static_cast<std::uint32_t>(format::ProducerState::active);

  for (const bool read_only : {true, false}) {
    Ring reader = Ring::open(dir / "ring", {.read_only = read_only});
    Consumer consumer = Consumer::attach(reader, {.start = StartFrom::earliest, .holds_back = false});
    std::size_t records = 0;
    bool always_aligned = true;
    PollStatus status = PollStatus::ok;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (consumer.position() < head + 64 && std::chrono::steady_clock::now() < deadline) {
      const PollResult polled = consumer.poll([&](const Record&) { ++records; });
      if (polled.status != PollStatus::ok) status = polled.status;
      always_aligned = always_aligned && consumer.position() % format::kFrameAlignment == 0;
      consumer.wait(std::chrono::milliseconds(10));
    }
    CHECK(records == 3);
    CHECK(always_aligned);
    CHECK(status == PollStatus::corrupt);  // nobody claims the hole: reported, then skipped
    CHECK(consumer.position() == head + 64);
  }
}
