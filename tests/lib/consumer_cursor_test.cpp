// A consumer's place in the ring: named cursors saved by poll or by commit() and found again on
// attach, a name one live process holds, and where an attach starts (earliest, latest, a record
// position).
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// A named consumer that saves its cursor only when told to (commit(), commit(position)).
ConsumerOptions committing_when_told(const char* name) {
  ConsumerOptions options;
  options.name = name;
  options.auto_commit = false;
  return options;
}

}  // namespace

TEST_CASE("a named consumer's cursor persists across detach and attach") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  ConsumerOptions options;
  options.name = "billing";
  {
    Consumer consumer = Consumer::attach(ring, options);
    Producer producer(ring);
    for (int index = 0; index < 5; ++index) {
      REQUIRE(producer.write(as_bytes("record " + std::to_string(index))) == ClaimStatus::ok);
    }
    CHECK(drain(consumer, 3) == std::vector<std::string>{"record 0", "record 1", "record 2"});
  }
  Ring reopened = Ring::open(dir / "ring");
  const auto slots = reopened.consumers();
  REQUIRE(slots.size() == 1);
  CHECK(slots[0].detached);
  CHECK(slots[0].name == "billing");
  Consumer resumed = Consumer::attach(reopened, options);
  CHECK(drain(resumed) == std::vector<std::string>{"record 3", "record 4"});
}

TEST_CASE("without auto-commit the cursor is saved only by commit()") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const ConsumerOptions options = committing_when_told("manual");
  Producer producer(ring);
  {
    Consumer consumer = Consumer::attach(ring, options);
    for (const char* text : {"a", "b", "c"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
    CHECK(drain(consumer, 1) == std::vector<std::string>{"a"});
    consumer.commit();
    CHECK(drain(consumer, 1) == std::vector<std::string>{"b"});
    // The slot holds the last commit (after "a"), not how far the consumer has read.
    CHECK(ring.consumers()[0].cursor == 48);
  }
  // Detaching did not confirm "b": the consumer reads it again when it returns.
  Consumer returned = Consumer::attach(ring, options);
  CHECK(drain(returned) == std::vector<std::string>{"b", "c"});
}

TEST_CASE("commit(position) saves a cursor between the last commit and how far the consumer has read") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const ConsumerOptions options = committing_when_told("forwarder");
  Producer producer(ring);
  std::vector<std::uint64_t> positions;
  {
    Consumer consumer = Consumer::attach(ring, options);
    for (const char* text : {"a", "b", "c", "d"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
    consumer.poll([&](const Record& record) { positions.push_back(record.position); });
    REQUIRE(positions.size() == 4);
    // "a" and "b" were handed on; "c" is the oldest not yet confirmed.
    CHECK(consumer.commit(positions[2]));
    CHECK(ring.consumers()[0].cursor == positions[2]);
    CHECK_FALSE(consumer.commit(positions[1]));             // never backwards
    CHECK_FALSE(consumer.commit(consumer.position() + 8));  // never past what was read
    CHECK(ring.consumers()[0].cursor == positions[2]);
  }
  Consumer returned = Consumer::attach(ring, options);
  CHECK(drain(returned) == std::vector<std::string>{"c", "d"});
}

// A cursor saved inside a record stalled the next attach there until the unblock timeout, and
// then read as damage (found by a tester).
TEST_CASE("commit(position) refuses a position inside a record, and takes each record's, in a group too") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const ConsumerOptions options = committing_when_told("forwarder");
  Producer producer(ring);
  Consumer consumer = Consumer::attach(ring, options);
  const std::string long_text(100, 'x');
  for (const char* text : {"one", long_text.c_str()}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  // Strings that outlive the spans (as_bytes of a literal spans a temporary).
  const std::string texts[] = {"g1", "g2", "g3"};
  const std::vector<std::span<const std::byte>> batch{as_bytes(texts[0]), as_bytes(texts[1]), as_bytes(texts[2])};
  REQUIRE(producer.write_batch(batch).records == 3);
  REQUIRE(producer.write(as_bytes("last")) == ClaimStatus::ok);
  std::vector<std::uint64_t> positions;
  consumer.poll([&](const Record& record) { positions.push_back(record.position); });
  REQUIRE(positions.size() == 6);
  for (const std::uint64_t position : positions) {
    CHECK_FALSE(consumer.commit(position + 8));  // inside its header, or its group entry
    CHECK(consumer.commit(position));
    CHECK(ring.consumers()[0].cursor == position);
  }
  consumer.detach();
  Consumer returned = Consumer::attach(ring, options);
  CHECK(drain(returned) == std::vector<std::string>{"last"});
}

// A handler may commit records it has handed on while poll reads on through the group it is in.
// The check that a position is a record boundary read it through poll's own view, which slid
// back to a position a view or more behind and unmapped the group poll was reading (found by a
// reviewer); the checks take a view of their own.
TEST_CASE("commit(position) from a poll handler, a view or more behind, leaves poll's view where it reads") {
  TempDir dir;
  constexpr std::uint64_t kView = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20), {.view_bytes = kView});
  Consumer consumer = Consumer::attach(ring, committing_when_told("forwarder"));
  Producer producer(ring);
  constexpr std::size_t kGroups = 40;
  constexpr std::size_t kGroupRecords = 50;
  std::vector<std::byte> payloads(kGroups * kGroupRecords * 100);
  std::vector<std::span<const std::byte>> group(kGroupRecords);
  for (std::size_t at = 0; at < kGroups * kGroupRecords; ++at) {
    const std::span<std::byte> payload{payloads.data() + at * 100, 100};
    fill_synthetic(payload, 1, at);
    group[at % kGroupRecords] = payload;
    if (at % kGroupRecords == kGroupRecords - 1) REQUIRE(producer.write_batch(group).records == kGroupRecords);
  }
  std::vector<std::uint64_t> positions;
  SyntheticVerifier verifier;
  std::size_t commits = 0;
  consumer.poll(
      [&](const Record& record) {
        verifier.check(record.payload);
        positions.push_back(record.position);
        // The record of 2 * kView bytes ago, if there was one: confirmed by a next stage.
        const auto behind = std::find_if(positions.rbegin(), positions.rend(),
                                         [&](std::uint64_t earlier) { return earlier + 2 * kView <= record.position; });
        if (behind != positions.rend() && consumer.commit(*behind)) commits += 1;
      },
      kGroups * kGroupRecords);
  CHECK(verifier.totals().records == kGroups * kGroupRecords);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
  CHECK(commits > 0);
}

TEST_CASE("a named consumer already attached by a live process is refused") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  ConsumerOptions options;
  options.name = "unique";
  Consumer first = Consumer::attach(ring, options);
  try {
    Consumer::attach(ring, options);
    FAIL("expected busy");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::busy);
    // Its own process: not "attached by live process <our pid>; stop it" (found by a tester).
    CHECK(std::string(error.what()).find("attached already by this process (another Consumer object)") !=
          std::string::npos);
  }
}

TEST_CASE("start positions: earliest, latest and an explicit record position") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  for (const char* text : {"a", "b", "c"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  Consumer earliest = Consumer::attach(ring, {.start = StartFrom::earliest});
  Consumer latest = Consumer::attach(ring, {.start = StartFrom::latest});
  Consumer explicit_start = Consumer::attach(ring, {.start_position = 48});
  REQUIRE(producer.write(as_bytes("d")) == ClaimStatus::ok);
  CHECK(drain(earliest) == std::vector<std::string>{"a", "b", "c", "d"});
  CHECK(drain(latest) == std::vector<std::string>{"d"});
  CHECK(drain(explicit_start) == std::vector<std::string>{"b", "c", "d"});
  CHECK_THROWS_AS(Consumer::attach(ring, {.start_position = 50}), Error);  // not aligned
  CHECK_THROWS_AS(Consumer::attach(ring, {.start_position = 8}), Error);   // inside a record
}

TEST_CASE("earliest after many laps starts at the oldest intact record") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  Producer producer(ring);
  std::uint64_t written = 0;
  const std::string payload(200, 'p');
  while (ring.head_position() < 5 * capacity + 1000) {
    REQUIRE(producer.write(as_bytes(payload + std::to_string(written++))) == ClaimStatus::ok);
  }
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  Consumer tap = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = false});
  Consumer oldest = Consumer::attach(ring, {.seek = Seek::last_records(1'000'000), .holds_back = false});
  const auto& header = detail::file_of(ring).header();
  const std::uint64_t frontier = std::max(ring.head_position(), header.preparation.preparing_end);
  // Producers wait for a holding consumer: it starts at the oldest intact record, the first
  // boundary after the oldest byte (found by a tester: it started an eighth of the ring later, as
  // the tap does, and skipped that many intact records of an idle ring).
  CHECK(consumer.position() >= frontier - capacity);
  CHECK(consumer.position() < frontier - capacity + 256);
  CHECK(consumer.position() == oldest.position());
  // A tap, which producers may lap: a margin (an eighth of this small ring) ahead of the oldest
  // byte, so that producers do not overwrite the start while it attaches.
  CHECK(tap.position() >= frontier - capacity + capacity / 8);
  CHECK(tap.position() < frontier - capacity + capacity / 8 + 256);
  const auto seen = drain(consumer);
  REQUIRE(!seen.empty());
  CHECK(seen.front() == drain(oldest).front());
  CHECK(seen.back() == payload + std::to_string(written - 1));
  CHECK(consumer.stats().lost_bytes == 0);
}

TEST_CASE("earliest while a producer writes flat out: most of a lap of history, never the head") {
  // Found in review: a holding consumer looking for the boundary at the oldest byte raced the
  // producer, gave up and started at the head, reporting no loss (7 attaches in 10 at 64 B flat
  // out). The producer waits for each consumer while it is attached, and goes on once it detaches.
  TempDir dir;
  const std::uint64_t capacity = 1 << 20;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> written{0};
  std::thread producer_thread([&] {
    Producer producer(ring);
    const std::string payload(56, 'w');
    while (!stop.load(std::memory_order_relaxed)) {
      if (producer.write(as_bytes(payload), std::chrono::milliseconds(1)) == ClaimStatus::ok) {
        written.fetch_add(1, std::memory_order_relaxed);
      }
    }
  });
  // Three laps written before the first attach.
  while (ring.head_position() < 3 * capacity) std::this_thread::yield();
  for (int attach = 0; attach < 10; ++attach) {
    const std::uint64_t head_before = ring.head_position();
    Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
    const std::uint64_t head_after = ring.head_position();
    CAPTURE(attach);
    CAPTURE(head_before);
    CAPTURE(consumer.position());
    // At most the tap's margin (an eighth of this ring) past the oldest byte when it attached,
    // and what it reads from there is intact.
    CHECK(consumer.position() + capacity <= head_after + capacity / 8 + 4096);
    CHECK(consumer.position() + capacity >= head_before);
    CHECK(consumer.stats().lost_bytes == 0);
    const PollResult polled = consumer.poll([](const Record&) {}, 100);
    CHECK(polled.status == PollStatus::ok);
    CHECK(polled.records == 100);
    // Let the producer run a while before the next attach.
    const std::uint64_t resume_from = written.load(std::memory_order_relaxed);
    consumer.detach();
    while (written.load(std::memory_order_relaxed) < resume_from + 20000) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_relaxed);
  producer_thread.join();
}
