// What the fuzzer (tests/fuzz) found in files a writer can craft, one regression test each:
// every one of them ends in an error code or a reported loss, never a hang or a crash.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "atomics.hpp"
#include "ring_file.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

format::FileHeader& header_of(const Ring& ring) { return ring.file()->header(); }

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
  }
  CHECK(consumer.error_message().find("more than a lap ahead of the head") != std::string::npos);
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(0)) == false);  // wait() returns at once, for poll to report
}
