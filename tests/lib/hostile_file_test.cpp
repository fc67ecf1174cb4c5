// What the fuzzer (tests/fuzz) found in files a writer can craft, one regression test each:
// every one of them ends in an error code or a reported loss, never a hang or a crash.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <ringfile/error.hpp>

#include "atomics.hpp"
#include "clock.hpp"
#include "process_identity.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "slot_tables.hpp"
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

// Three records, then 64 bytes reserved by a producer (slot 7, pid 0: nobody) that died before
// committing, its claim [head, head + claim_bytes) left open. Returns the head before them.
std::uint64_t leave_dead_claim(Ring& ring, std::uint64_t claim_bytes) {
  write_records(ring, 3);
  const std::uint64_t head = ring.head_position();
  auto& header = header_of(ring);
  header.head_position.value = head + 64;
  auto& slot = header.producers[7];
  slot.owner_pid = 0;
  slot.claim_start = head;
  slot.claim_end = head + claim_bytes;
  slot.state = static_cast<std::uint32_t>(format::ProducerState::active);
  return head;
}

CreateOptions ring_with_short_unblock_timeout() {
  CreateOptions options = small_ring(64 * 1024, WriterPolicy::block, 1024);
  options.unblock_timeout = std::chrono::milliseconds(50);
  return options;
}

}  // namespace

TEST_CASE("a preparation frontier more than a lap ahead of the head: poll reports it instead of skipping forever") {
  TempDir dir;
  // With a paging engine: in a ring without one, the frontier is not read at all (below).
  CreateOptions options = small_ring(64 * 1024, WriterPolicy::overwrite, 1024);
  options.paging = PagingStrategy::zero_range;
  Ring ring = Ring::create(dir / "ring", options);
  REQUIRE(ring.info().paging == PagingStrategy::zero_range);
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
  Ring ring = Ring::create(dir / "ring", ring_with_short_unblock_timeout());
  const std::uint64_t head = leave_dead_claim(ring, 41);

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

// Found in review: fields checked when the ring is opened but written by another process since,
// then used as they were. The file is mapped shared: anyone who can write it can do this.

TEST_CASE("a head moved off the 8-byte grid or to the last position after open: write refuses it and writes nothing") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  write_records(ring, 3);
  Producer producer(ring);
  const std::uint64_t capacity = ring.info().capacity_bytes;
  // 4 bytes before the lap's end: the padding to the lap's end would be an 8-byte word across it.
  header_of(ring).head_position.value = capacity - 4;
  CHECK(producer.write(as_bytes("after the damage")) == ClaimStatus::corrupt);
  CHECK(producer.write_batch(std::vector<std::span<const std::byte>>(4, as_bytes("batched"))).status ==
        ClaimStatus::corrupt);
  CHECK(producer.try_claim(16).status == ClaimStatus::corrupt);
  CHECK(ring.head_position() == capacity - 4);
  // At the last plausible position: a record there would end past it. Every later open refuses
  // such a head, as it does the one a record there would leave.
  header_of(ring).head_position.value = format::kMostPosition;
  CHECK(producer.write(as_bytes("after the damage")) == ClaimStatus::corrupt);
  CHECK(producer.try_claim(16).status == ClaimStatus::corrupt);
  CHECK(ring.head_position() == format::kMostPosition);
  CHECK_THROWS_WITH_AS(Ring::open(dir / "ring"), doctest::Contains("head position"), Error);
  header_of(ring).head_position.value = std::uint64_t{1} << 63;  // aligned, but no ring gets there
  CHECK(producer.write(as_bytes("after the damage")) == ClaimStatus::corrupt);
  CHECK(ring.head_position() == std::uint64_t{1} << 63);
  // The header beside the data area is intact: the ring still opens and says what is wrong.
  CHECK_THROWS_WITH_AS(Ring::open(dir / "ring"), doctest::Contains("head position"), Error);
}

TEST_CASE("a head stored back below what was written: producers refuse it, a consumer past it says so") {
  // Found by a tester: with the head set back to 0 under a live producer and consumer, the
  // producer wrote over what the consumer had read and the consumer waited in silence; both
  // ended with exit 0.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  Producer producer(ring);
  for (int index = 0; index < 3; ++index) REQUIRE(producer.write(as_bytes("record")) == ClaimStatus::ok);
  REQUIRE(consumer.poll([](const Record&) {}).records == 3);
  const std::uint64_t head = ring.head_position();
  REQUIRE(consumer.position() == head);

  header_of(ring).head_position.value = 0;
  CHECK(producer.write(as_bytes("after the damage")) == ClaimStatus::corrupt);
  CHECK(producer.try_claim(16).status == ClaimStatus::corrupt);
  CHECK(ring.head_position() == 0);
  // The consumer looks at the head once a millisecond while it finds nothing (reach_past_known_head).
  PollResult polled;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // a hang guard only
  while (polled.status == PollStatus::ok && std::chrono::steady_clock::now() < deadline) {
    polled = consumer.poll([](const Record&) {});
    if (polled.status == PollStatus::ok) consumer.wait(std::chrono::milliseconds(2));
  }
  REQUIRE(polled.status == PollStatus::corrupt);
  CHECK(polled.error_message.find("head went back") != std::string::npos);
  // Said once: polled again at once (as --skip-damaged does), it waits for the head (review).
  for (int again = 0; again < 3; ++again) {
    consumer.wait(std::chrono::milliseconds(2));
    polled = consumer.poll([](const Record&) {});
    CHECK(polled.status == PollStatus::ok);
    CHECK(polled.records == 0);
  }
  CHECK(consumer.position() == head);
  CHECK(consumer.stats().lost_bytes == 0);

  // Put back, both go on: nothing was written or skipped meanwhile.
  header_of(ring).head_position.value = head;
  REQUIRE(producer.write(as_bytes("after the repair")) == ClaimStatus::ok);
  std::vector<std::string> read;
  const auto deadline_after = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // a hang guard only
  while (read.empty() && std::chrono::steady_clock::now() < deadline_after) {
    polled = consumer.poll([&](const Record& record) {
      read.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (read.empty()) consumer.wait(std::chrono::milliseconds(2));
  }
  CHECK(read == std::vector<std::string>{"after the repair"});
  CHECK(consumer.stats().lost_bytes == 0);
}

TEST_CASE("a claim no producer can have made, in a free slot, is not followed by searches for the oldest record") {
  // Found by a tester: an end of 2^34 in a free producer slot of a wrapped ring made --from
  // earliest start past every record (0 of 576 read, nothing reported lost).
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  write_records(ring, 5000);  // many laps
  const auto read_from_earliest = [&] {
    Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
    std::size_t records = 0;
    while (consumer.poll([&](const Record&) { ++records; }).records > 0) {
    }
    CHECK(consumer.stats().lost_bytes == 0);
    return records;
  };
  const std::size_t intact = read_from_earliest();
  REQUIRE(intact > 100);
  auto& slot = header_of(ring).producers[44];
  REQUIRE(slot.state == static_cast<std::uint32_t>(format::ProducerState::free));
  slot.claim_end = std::uint64_t{1} << 34;
  CHECK(read_from_earliest() == intact);
}

TEST_CASE("a preparation frontier in a ring without a paging engine is none: no record behind it is passed over") {
  // Found by a tester: preparing_end set to a lap and 64 KiB in a ring of paging none that had
  // not wrapped made --from earliest start 64 KiB late, nothing reported lost (a named consumer
  // reported the intact records as lost to lapping).
  TempDir dir;
  CreateOptions options = small_ring(1024 * 1024, WriterPolicy::overwrite);
  options.paging = PagingStrategy::none;
  Ring ring = Ring::create(dir / "ring", options);
  write_records(ring, 20);
  header_of(ring).preparation.preparing_end = ring.info().capacity_bytes + 64 * 1024;
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  std::size_t records = 0;
  consumer.poll([&](const Record&) { ++records; });
  CHECK(records == 20);
  CHECK(consumer.stats().lost_bytes == 0);
}

TEST_CASE("a consumer attaching where a damaged head or saved cursor points reads nothing there") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  write_records(ring, 3);
  { Consumer named = Consumer::attach(ring, {.name = "billing", .start = StartFrom::earliest}); }
  const std::uint64_t capacity = ring.info().capacity_bytes;
  auto& header = header_of(ring);
  header.head_position.value = capacity;
  for (auto& slot : header.consumers) {
    if (std::string(slot.name) == "billing") slot.cursor = capacity - 4;  // 4 bytes before the end
  }
  const auto attach_billing = [&] { return Consumer::attach(ring, {.name = "billing"}); };
  CHECK_THROWS_WITH_AS(attach_billing(), doctest::Contains("which no record starts at"), Error);
  header.head_position.value = capacity - 4;
  const auto attach_latest = [&] { return Consumer::attach(ring, {.start = StartFrom::latest}); };
  CHECK_THROWS_WITH_AS(attach_latest(), doctest::Contains("no position a producer writes"), Error);
}

TEST_CASE("a dead preparer's range that no preparer chooses is not redone: the producer goes on") {
  // Before: the engine took any preparing_end past the frontier for a dead preparer's range and
  // invalidated up to it, lap after lap (2^50 bytes ahead: a billion laps of this ring).
  TempDir dir;
  CreateOptions options = small_ring(1024 * 1024, WriterPolicy::overwrite, 1024);
  options.paging = PagingStrategy::zero_range;
  Ring ring = Ring::create(dir / "ring", options);
  REQUIRE(ring.info().paging == PagingStrategy::zero_range);
  write_records(ring, 100);
  auto& header = header_of(ring);
  header.preparation.owner_word = 0;
  header.preparation.preparing_end = header.prepared_position.value + (std::uint64_t{1} << 50);
  // A file left so is refused at open, with what is wrong.
  CHECK_THROWS_WITH_AS(Ring::open(dir / "ring"), doctest::Contains("paging frontiers"), Error);
  // An open ring goes on: three laps of records, with the frontiers its engine chooses.
  Producer producer(ring);
  const std::string payload(500, 'y');
  constexpr std::uint64_t kRecords = 6000;
  for (std::uint64_t index = 0; index < kRecords; ++index) {
    REQUIRE(producer.write(as_bytes(payload + std::to_string(index))) == ClaimStatus::ok);
  }
  // Replaced by a range of its own (the housekeeping thread may be preparing one now).
  const std::uint64_t capacity = ring.info().capacity_bytes;
  CHECK(detail::atomic_field(header.preparation.preparing_end).load() <=
        detail::atomic_field(header.prepared_position.value).load() + capacity);
  // What the last lap holds reads back intact, up to the last record.
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  std::uint64_t next = 0;
  std::uint64_t read = 0;
  bool in_order = true;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      const std::string text(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
      const std::uint64_t index = std::stoull(text.substr(payload.size()));
      in_order = in_order && text.starts_with(payload) && (read == 0 || index == next);
      next = index + 1;
      ++read;
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) break;
  }
  CHECK(in_order);
  CHECK(next == kRecords);
  CHECK(read > 1000);  // most of a lap of 1 MiB in records of 504-508 bytes
}

TEST_CASE("a dead producer's claim longer than any claim is not padded over: the hole is reported") {
  // Before: a consumer padded from its position to the claim's end, past the head (and, with an
  // end 2^32 bytes on in a large ring, wrote a padding word of length 0, again and again).
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", ring_with_short_unblock_timeout());
  // More than two frames of the largest record (1 KiB).
  const std::uint64_t head = leave_dead_claim(ring, 16 * 1024);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});

  PollResult polled;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // a hang guard only
  while (polled.status == PollStatus::ok && std::chrono::steady_clock::now() < deadline) {
    polled = consumer.poll([](const Record&) {});
    CHECK(consumer.position() <= head + 64);
    if (polled.status == PollStatus::ok) consumer.wait(std::chrono::milliseconds(10));
  }
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(polled.error_message.find("that no producer claims") != std::string::npos);
  CHECK(consumer.position() == head);
}

TEST_CASE("a dead producer's claim reaching past the head is padded over only up to the head") {
  // A claim whose producer died before it moved the head (or a forged one) may end past it; the
  // space there was never reserved, and the next producer's record goes there.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", ring_with_short_unblock_timeout());
  const std::uint64_t head = leave_dead_claim(ring, 2000);  // within two frames of the largest record
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  std::size_t records = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);  // a hang guard only
  while (consumer.position() < head + 64 && std::chrono::steady_clock::now() < deadline) {
    REQUIRE(consumer.poll([&](const Record&) { ++records; }).status == PollStatus::ok);
    consumer.wait(std::chrono::milliseconds(10));
  }
  CHECK(records == 3);
  CHECK(consumer.position() == head + 64);
  // The next record goes at the head, and is read.
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("after the hole")) == ClaimStatus::ok);
  CHECK(consumer.poll([&](const Record&) { ++records; }).records == 1);
  CHECK(records == 4);
}

TEST_CASE("a dead consumer's heartbeat far ahead of the clock does not hold producers back for ever") {
  // Before, a dead holding consumer counted as within its grace until heartbeat + grace: ten
  // years here (and a heartbeat near 2^64 wrapped round to "long ago").
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  auto& slot = header_of(ring).consumers[3];
  slot.owner_pid = 0;  // nobody: its owner is dead
  std::memcpy(slot.name, "ghost", 6);
  slot.cursor = 0;
  slot.heartbeat_ns = detail::realtime_ns() + 10ull * 365 * 24 * 3600 * 1'000'000'000;
  slot.flags = format::kConsumerHoldsBack | format::kConsumerNamed;
  slot.state = static_cast<std::uint32_t>(format::ConsumerState::active);
  Producer producer(ring);
  const std::string record(1000, 'x');
  for (int index = 0; index < 200; ++index) {  // three laps of the ring
    REQUIRE(producer.write(as_bytes(record), std::chrono::seconds(5)) == ClaimStatus::ok);
  }
  const auto consumers = ring.consumers();
  REQUIRE(consumers.size() == 1);
  CHECK(consumers.at(0).expired);
  CHECK_FALSE(consumers.at(0).holds_back);
}

TEST_CASE("a live producer's claim stamped far ahead of the clock does not hold producers back for ever") {
  // Found in review: a claim counted as live until its time plus the unblock timeout, so a time
  // in the slot ten years ahead (owned by a process that is alive: init here) held every producer
  // a lap behind it, and the preparation too, for ten years.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  const std::string record(1000, 'x');
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes(record)) == ClaimStatus::ok);
  REQUIRE(detail::process_start_time(1) != 0);
  auto& slot = header_of(ring).producers[60];
  slot.owner_pid = 1;
  slot.owner_start_time = detail::process_start_time(1);
  detail::publish_claim(slot, {0, 1024, detail::realtime_ns() + 10ull * 365 * 24 * 3600 * 1'000'000'000});
  detail::atomic_field(slot.state).store(static_cast<std::uint32_t>(format::ProducerState::active));
  for (int index = 0; index < 200; ++index) {  // three laps of the ring
    REQUIRE(producer.write(as_bytes(record), std::chrono::seconds(5)) == ClaimStatus::ok);
  }
}

TEST_CASE("consumer names read from the file are shown with their control bytes escaped") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 1024));
  { Consumer named = Consumer::attach(ring, {.name = "billing"}); }
  auto& slot = header_of(ring).consumers[0];
  REQUIRE(std::string(slot.name) == "billing");
  // Sets a terminal's title and clears its screen where printed as it is.
  const char forged[] = "\x1b]0;owned\x07\x1b[2J\\EVIL\xff";
  static_assert(sizeof forged <= sizeof slot.name);
  std::memcpy(slot.name, forged, sizeof forged);
  const std::vector<ConsumerInfo> consumers = ring.consumers();
  REQUIRE(consumers.size() == 1);
  CHECK(consumers[0].name == "\\x1b]0;owned\\x07\\x1b[2J\\\\EVIL\\xff");
  // U+009B is valid UTF-8 and a CSI to many terminals, as ESC [ is.
  const char c1[] = "a\xc2\x9b" "2J";
  std::memcpy(slot.name, c1, sizeof c1);
  CHECK(ring.consumers()[0].name == "a\\xc2\\x9b2J");
  // A right-to-left override turns the rest of a status row backwards; a backslash would let a
  // name pass for an escaped one.
  const char reordering[] = "a\xe2\x80\xae" "b\\x1b";
  std::memcpy(slot.name, reordering, sizeof reordering);
  CHECK(ring.consumers()[0].name == "a\\xe2\\x80\\xaeb\\\\x1b");
  // A valid name, in any script, is shown as it is.
  const char valid[] = "caf\xc3\xa9-\xe6\x97\xa5";
  std::memcpy(slot.name, valid, sizeof valid);
  CHECK(ring.consumers()[0].name == valid);
}

TEST_CASE("a name the rule came to refuse resumes its own slot; as a new name it is refused, shown escaped") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  write_records(ring, 3);
  {
    Consumer named = Consumer::attach(ring, {.name = "billing", .start = StartFrom::earliest});
    named.poll([](const Record&) {}, 2);
  }
  const std::uint64_t saved = ring.consumers()[0].cursor;
  REQUIRE(saved > 0);
  // A backslash was allowed in names once.
  const char old_name[] = "bill\\ing";
  std::memcpy(header_of(ring).consumers[0].name, old_name, sizeof old_name);
  const Consumer resumed = Consumer::attach(ring, {.name = old_name});
  CHECK(resumed.position() == saved);
  try {
    Consumer::attach(ring, {.name = "new\\one\x1b[2J"});
    FAIL("a new name with a backslash and an ESC was taken");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(std::string(error.what()).find("'new\\\\one\\x1b[2J' holds a backslash") != std::string::npos);
  }
}

namespace {

// Records "record 0", "record 1", ... until the ring refuses one at once; returns how many.
int fill_until_blocked(Producer& producer) {
  int written = 0;  // until timed_out: a timeout of 0 does not wait
  while (producer.write(as_bytes("record " + std::to_string(written)), std::chrono::nanoseconds(0)) == ClaimStatus::ok) {
    ++written;
  }
  return written;
}

}  // namespace

TEST_CASE("a shared producer limit more than a lap past the head is set again from the cursors: producers wait") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  Consumer consumer = Consumer::attach(ring, {.name = "slow"});
  Producer producer(ring);
  const int written = fill_until_blocked(producer);
  REQUIRE(written > 100);
  // Found by a tester: producers trusted a limit far out, overwrote a lap and more of what the
  // consumer had not read, and the consumer then read nothing and reported no loss.
  header_of(ring).producer_limit.value = std::uint64_t{1} << 40;
  CHECK(producer.write(as_bytes("past the consumer"), std::chrono::nanoseconds(0)) == ClaimStatus::timed_out);
  CHECK(header_of(ring).producer_limit.value <= ring.head_position() + ring.info().capacity_bytes);
  int read = 0;
  while (consumer.poll([&](const Record& record) {
           CHECK(std::string(reinterpret_cast<const char*>(record.payload.data()), record.payload.size()) ==
                 "record " + std::to_string(read));
           ++read;
         }).records > 0) {
  }
  CHECK(read == written);
  CHECK(consumer.stats().lost_records == 0);
}

TEST_CASE("a holding consumer lapped all the same (a forged limit within a lap of the head) counts the loss") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  Consumer consumer = Consumer::attach(ring, {.name = "slow"});
  Producer producer(ring);
  int written = fill_until_blocked(producer);
  REQUIRE(written > 100);
  // A limit the library could have set (a lap past the head) but that no cursor allows: the
  // producer believes it and writes half a lap over records the consumer has not read.
  const std::uint64_t capacity = ring.info().capacity_bytes;
  REQUIRE(ring.head_position() <= capacity);
  header_of(ring).producer_limit.value = capacity + capacity / 2;
  while (producer.write(as_bytes("record " + std::to_string(written)), std::chrono::nanoseconds(0)) == ClaimStatus::ok) {
    ++written;
  }
  REQUIRE(ring.head_position() > capacity + capacity / 4);
  // It waited for a producer to commit the frame at its cursor, for ever (or called the later
  // lap's frame there damage after the unblock timeout). Now it skips ahead as soon as it looks
  // again after a stuck frame's grace, counting what it lost, and reads the rest in order.
  std::vector<int> read;
  // Polls until the last record came; the bound is a guard against a hang only.
  for (int round = 0; round < 2000 && (read.empty() || read.back() != written - 1); ++round) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      const std::string text(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
      read.push_back(std::stoi(text.substr(7)));
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(10));
  }
  const bool all_read = !read.empty() && read.back() == written - 1;
  REQUIRE(all_read);
  CHECK(consumer.stats().lapped_count == 1);
  CHECK(consumer.stats().lost_records == static_cast<std::uint64_t>(read.front()));
  for (std::size_t index = 1; index < read.size(); ++index) CHECK(read[index] == read[index - 1] + 1);
}
