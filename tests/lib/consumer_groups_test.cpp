// Consumers reading group frames (format version 3: the records of one write_batch group under one
// header, lib/src/consumer.cpp): a record inside a group is a place of its own, where a poll may
// stop, a cursor may be saved and a seek may start; damage inside a group costs only what it hit.
// How producers write groups: producer_batch_test.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "ringfile/format/record_header.hpp"
#include "support/file_bytes.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// `count` texts of `size` bytes, each naming its index: "7:xxxx...".
std::vector<std::string> texts(std::size_t count, std::size_t size, std::size_t first = 0) {
  std::vector<std::string> result;
  for (std::size_t index = first; index < first + count; ++index) {
    std::string text = std::to_string(index) + ":";
    text.resize(std::max(size, text.size()), 'x');
    result.push_back(text);
  }
  return result;
}

std::vector<std::span<const std::byte>> spans_of(const std::vector<std::string>& payloads) {
  std::vector<std::span<const std::byte>> spans;
  for (const std::string& payload : payloads) spans.push_back(as_bytes(payload));
  return spans;
}

// Reads up to `max_records` ready now, with their positions.
std::vector<std::pair<std::uint64_t, std::string>> read_some(Consumer& consumer, std::size_t max_records) {
  std::vector<std::pair<std::uint64_t, std::string>> read;
  const PollResult polled = consumer.poll(
      [&](const Record& record) {
        read.emplace_back(record.position,
                          std::string(reinterpret_cast<const char*>(record.payload.data()), record.payload.size()));
      },
      max_records);
  REQUIRE(polled.status == PollStatus::ok);
  return read;
}

// The position of the `index`-th record of a group at position 0 whose records are all of
// `payload_bytes` bytes.
std::uint64_t entry_position(std::size_t index, std::size_t payload_bytes) {
  return format::kRecordHeaderBytes + index * (format::kGroupEntryHeaderBytes + format::frame_stride(payload_bytes));
}

}  // namespace

TEST_CASE("a poll may end inside a group: the next poll hands out the group's next record") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const std::vector<std::string> batch = texts(10, 50);
  REQUIRE(producer.write_batch(spans_of(batch)).records == 10);

  SUBCASE("at max_records") {
    const auto first = read_some(consumer, 3);
    REQUIRE(first.size() == 3);
    CHECK(consumer.position() == entry_position(3, 50));
    const auto rest = read_some(consumer, 100);
    REQUIRE(rest.size() == 7);
    CHECK(rest[0].first == entry_position(3, 50));
    CHECK(rest[0].second == batch[3]);
    CHECK(rest[6].second == batch[9]);
  }
  SUBCASE("where the handler leaves a record unread") {
    std::vector<std::string> seen;
    consumer.poll([&](const Record& record) {
      seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
      return seen.size() < 5;  // the fifth is left unread
    });
    REQUIRE(seen.size() == 5);
    CHECK(consumer.position() == entry_position(4, 50));
    CHECK(drain(consumer) == std::vector<std::string>(batch.begin() + 4, batch.end()));
  }
  CHECK(consumer.position() == ring.head_position());
}

TEST_CASE("a named consumer that detaches inside a group resumes at the group's next record") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  { Consumer consumer = Consumer::attach(ring, {.name = "reader"}); }
  Producer producer(ring);
  const std::vector<std::string> first = texts(10, 60);
  const std::vector<std::string> second = texts(10, 60, 10);
  REQUIRE(producer.write_batch(spans_of(first)).records == 10);
  REQUIRE(producer.write_batch(spans_of(second)).records == 10);
  std::vector<std::string> all(first);
  all.insert(all.end(), second.begin(), second.end());

  // Three records a visit, each visit a new attach at the saved cursor: every record once.
  std::vector<std::string> read;
  for (int visit = 0; visit < 10 && read.size() < all.size(); ++visit) {
    Consumer consumer = Consumer::attach(ring, {.name = "reader", .start = StartFrom::committed});
    for (const auto& [position, payload] : read_some(consumer, 3)) read.push_back(payload);
    // The saved cursor names the next record itself, inside the group.
    const auto saved = ring.consumers().at(0).cursor;
    CHECK(saved == consumer.position());
  }
  CHECK(read == all);
}

TEST_CASE("producers keep a group's header while a holding consumer's cursor stands inside the group") {
  // The cursor resumes through the group's header, before it: producers hold back a group's span
  // behind every cursor (Geometry::group_span), not only the cursor.
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::block, 4096));
  { Consumer consumer = Consumer::attach(ring, {.name = "slow", .start = StartFrom::latest}); }
  Producer producer(ring, {.idle = IdleStrategy::sleep});
  std::vector<std::string> written;
  std::uint64_t next = 0;
  const auto write_group = [&](std::chrono::milliseconds timeout) {
    const std::vector<std::string> batch = texts(40, 100, next);
    const BatchResult result = producer.write_batch(spans_of(batch), timeout);
    written.insert(written.end(), batch.begin(), batch.begin() + static_cast<std::ptrdiff_t>(result.records));
    next += result.records;
    return result.status;
  };
  // Single records first, so that the group starts 8 KiB into the lap, and the next lap can
  // reach it.
  while (ring.head_position() < 8192) {
    const std::vector<std::string> single = texts(1, 100, next);
    REQUIRE(producer.write(as_bytes(single[0])) == ClaimStatus::ok);
    written.push_back(single[0]);
    next += 1;
  }
  const std::size_t singles = written.size();
  REQUIRE(write_group(std::chrono::seconds(5)) == ClaimStatus::ok);
  std::vector<std::string> read;
  {
    Consumer consumer = Consumer::attach(ring, {.name = "slow"});
    for (const auto& [position, payload] : read_some(consumer, singles + 7)) read.push_back(payload);
    REQUIRE(read.size() == singles + 7);
    // Fill the ring until the producer waits for the cursor, seven records into the group (a
    // ring's worth of groups at most: a producer that never waits fails here).
    int groups = 0;
    while (write_group(std::chrono::milliseconds(20)) == ClaimStatus::ok) REQUIRE(++groups < 20);
  }  // detached: its cursor saved inside the group
  CHECK(ring.head_position() > capacity + 4096);  // the next lap reached the bytes before the group
  Consumer consumer = Consumer::attach(ring, {.name = "slow"});
  for (;;) {
    const auto batch = read_some(consumer, 1000);
    if (batch.empty()) break;
    for (const auto& [position, payload] : batch) read.push_back(payload);
  }
  CHECK(read == written);
  CHECK(consumer.stats().lost_records == 0);
}

TEST_CASE("a seek to a record inside a group starts there; a place inside its bytes names the next record") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  const std::vector<std::string> batch = texts(6, 30);
  REQUIRE(producer.write_batch(spans_of(batch)).records == 6);

  Consumer at_fourth = Consumer::attach(ring, {.seek = Seek::to_position(entry_position(3, 30))});
  CHECK(drain(at_fourth) == std::vector<std::string>(batch.begin() + 3, batch.end()));

  const std::uint64_t inside_fourth = entry_position(3, 30) + 16;
  try {
    Consumer::attach(ring, {.seek = Seek::to_position(inside_fourth)});
    FAIL("a position inside a record was taken");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(std::string(error.what()).find("starts at " + std::to_string(entry_position(4, 30))) != std::string::npos);
  }
  Consumer at_next = Consumer::attach(ring, {.seek = Seek::to_position(inside_fourth, true)});
  CHECK(drain(at_next) == std::vector<std::string>(batch.begin() + 4, batch.end()));

  // The N-th last record, inside the group.
  Consumer last_two = Consumer::attach(ring, {.seek = Seek::last_records(2)});
  CHECK(drain(last_two) == std::vector<std::string>(batch.begin() + 4, batch.end()));
  // The group's header is a place too: before its first record.
  Consumer at_group = Consumer::attach(ring, {.seek = Seek::to_position(0)});
  CHECK(drain(at_group) == batch);
}

TEST_CASE("Ring::record_at describes a record inside a group, and its group's start") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  const std::vector<std::string> batch{"a", std::string(300, 'b'), "cc"};
  REQUIRE(producer.write_batch(spans_of(batch)).records == 3);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  std::vector<Record> records;
  consumer.poll([&](const Record& record) { records.push_back(record); });
  REQUIRE(records.size() == 3);
  for (const Record& record : records) {
    const auto meta = ring.record_at(record.position);
    REQUIRE(meta.has_value());
    CHECK(meta->timestamp_ns == record.timestamp_ns);
    CHECK(meta->payload_bytes == record.payload.size());
  }
  const auto group = ring.record_at(0);
  REQUIRE(group.has_value());
  CHECK(group->payload_bytes == 1);  // its first record's
  CHECK_FALSE(ring.record_at(records[1].position + 8).has_value());  // inside the second's payload
}

TEST_CASE("Ring::first_record_from steps over the padding after a group that ends on a line, and at a lap's end") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Producer producer(ring);
  Consumer consumer = Consumer::attach(ring, {.name = "reader"});
  const std::vector<std::string> first = texts(3, 10);
  REQUIRE(producer.write_batch(spans_of(first)).records == 3);
  // Found by a tester: a cursor right after a group stands on the padding to the line's end, and
  // its lag had no age (ringfile-status showed "-", and --max-lag 30s never flagged it).
  // A poll of three: one that reads on steps over the padding.
  REQUIRE(consumer.poll([](const Record&) {}, 3).records == 3);
  const std::uint64_t after_group = consumer.position();
  REQUIRE(after_group % 64 != 0);
  REQUIRE(after_group < ring.head_position());  // the padding's end
  CHECK_FALSE(ring.record_at(after_group).has_value());
  CHECK_FALSE(ring.first_record_from(after_group).has_value());  // nothing committed after it yet
  REQUIRE(producer.write_batch(spans_of(texts(2, 10, 3))).records == 2);
  std::vector<Record> second;
  {
    // A tap: a consumer left holding would keep the producer from the lap below.
    Consumer peek = Consumer::attach(ring, {.seek = Seek::to_position(after_group), .holds_back = false});
    peek.poll([&](const Record& record) { second.push_back(record); });
  }
  REQUIRE(second.size() == 2);
  const auto next = ring.first_record_from(after_group);
  REQUIRE(next.has_value());
  CHECK(next->position == second.front().position - format::kRecordHeaderBytes);  // the group's start
  CHECK(next->timestamp_ns == second.front().timestamp_ns);
  CHECK(consumer.lag().seconds.has_value());

  // Records until the next one starts the second lap: the cursor after the last of the first lap
  // stands where the padding to its end goes.
  REQUIRE(consumer.poll([](const Record&) {}).records == 2);
  const std::uint64_t capacity = ring.info().capacity_bytes;
  std::uint64_t index = 5;
  while (capacity - ring.head_position() >= format::kRecordHeaderBytes + 1000) {  // a frame of 1000 B still fits
    REQUIRE(producer.write(as_bytes(texts(1, 1000, index++).front()), std::chrono::seconds(10)) == ClaimStatus::ok);
  }
  while (consumer.poll([](const Record&) {}).records > 0) {
  }
  const std::uint64_t at_lap_end = consumer.position();  // the head, where the padding will start
  for (int record = 0; record < 2; ++record) {
    REQUIRE(producer.write(as_bytes(texts(1, 1000, index++).front()), std::chrono::seconds(10)) == ClaimStatus::ok);
  }
  REQUIRE(ring.head_position() > capacity);
  REQUIRE(at_lap_end < capacity);
  const auto first_of_lap = ring.first_record_from(at_lap_end);
  REQUIRE(first_of_lap.has_value());
  CHECK(first_of_lap->position == capacity);
}

TEST_CASE("damage inside a group: a failed checksum skips its record alone, a broken entry the rest of the group") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  const std::vector<std::string> batch = texts(8, 100);
  {
    Producer producer(ring);
    REQUIRE(producer.write_batch(spans_of(batch)).records == 8);
    REQUIRE(producer.write(as_bytes("after")) == ClaimStatus::ok);
  }
  const auto data_offset = static_cast<off_t>(ring.info().data_offset);
  std::string broken;
  SUBCASE("a payload byte changed: that record is skipped") {
    const char changed = '#';
    patch_file(dir / "ring", data_offset + static_cast<off_t>(entry_position(2, 100) + 8 + 50), &changed, 1);
    broken = "checksum";
  }
  SUBCASE("an entry's length past the frame: the group's other records after it are skipped") {
    const std::uint16_t too_long = 5000;
    patch_file(dir / "ring", data_offset + static_cast<off_t>(entry_position(2, 100)), &too_long, sizeof too_long);
    broken = "runs past the end of its frame";
  }
  SUBCASE("an entry that names another place in the group") {
    const std::uint16_t elsewhere = 1;
    patch_file(dir / "ring", data_offset + static_cast<off_t>(entry_position(2, 100) + 2), &elsewhere, sizeof elsewhere);
    broken = "does not name its place";
  }
  std::vector<std::string> read;
  const auto take = [&](const Record& record) {
    read.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  };
  const PollResult damaged = consumer.poll(take);
  CHECK(damaged.status == PollStatus::corrupt);
  CHECK(damaged.error_message.find(broken) != std::string::npos);
  CHECK(damaged.error_message.find("position " + std::to_string(entry_position(2, 100))) != std::string::npos);
  CHECK(read == std::vector<std::string>(batch.begin(), batch.begin() + 2));
  read.clear();
  const PollResult after = consumer.poll(take);
  CHECK(after.status == PollStatus::ok);
  if (broken == "checksum") {
    std::vector<std::string> expected(batch.begin() + 3, batch.end());
    expected.push_back("after");
    CHECK(read == expected);
    CHECK(consumer.stats().lost_records == 1);
    CHECK(consumer.stats().checksum_failures == 1);
  } else {
    CHECK(read == std::vector<std::string>{"after"});
    CHECK(consumer.stats().lost_records == 6);
  }
}

TEST_CASE("a consumer that producers may lap reads groups whole or counts them lost, never torn") {
  // Overwrite policy: the producer never waits, and the consumer copies each record and checks
  // afterwards that the group was not overwritten meanwhile.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite, 4096));
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  constexpr std::uint64_t kRecords = 200'000;
  std::atomic<bool> writer_failed{false};
  std::thread writer([&] {
    Producer producer(ring);
    std::vector<std::vector<std::byte>> payloads;
    for (std::uint64_t first = 0; first < kRecords; first += 16) {
      payloads.clear();
      for (std::uint64_t sequence = first; sequence < first + 16; ++sequence) {
        payloads.push_back(synthetic_payload(7, sequence, 16 + sequence % 200));
      }
      std::vector<std::span<const std::byte>> spans(payloads.begin(), payloads.end());
      if (producer.write_batch(spans).records != spans.size()) writer_failed.store(true);
    }
  });
  std::uint64_t read = 0;
  std::uint64_t mismatched = 0;
  std::uint64_t last_sequence = 0;
  bool in_order = true;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      const std::uint64_t sequence = record.producer_sequence;
      if (read > 0 && sequence <= last_sequence) in_order = false;
      last_sequence = sequence;
      read += 1;
      const auto expected = synthetic_payload(7, sequence, 16 + sequence % 200);
      if (record.payload.size() != expected.size() ||
          std::memcmp(record.payload.data(), expected.data(), expected.size()) != 0) {
        mismatched += 1;
      }
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0 && last_sequence + 1 >= kRecords) break;
    if (polled.records == 0 && !consumer.wait(std::chrono::seconds(10))) break;
  }
  writer.join();
  REQUIRE_FALSE(writer_failed.load());
  CHECK(read > 0);
  CHECK(mismatched == 0);
  CHECK(in_order);
  CHECK(last_sequence == kRecords - 1);
  CHECK(read + consumer.stats().lost_records == kRecords);
}

TEST_CASE("block: a name that resumes holding inside a group whose header producers overwrote moves to the oldest record") {
  // Found in review: the record at the cursor was still intact, so the attach kept the cursor, but
  // without the group's header the cursor read as a frame's start: polls found nothing, producers
  // waited below the head, and after the unblock timeout the poll called the file damaged.
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::block, 4096));
  Producer producer(ring);
  const std::uint64_t group_start = ring.head_position();
  REQUIRE(producer.write_batch(spans_of(texts(40, 64))).records == 40);
  std::uint64_t cursor = 0;
  {
    // Not holding while away: producers go on past the group's header.
    Consumer reader = Consumer::attach(ring, {.name = "late", .seek = Seek::earliest(), .holds_back = false});
    REQUIRE(read_some(reader, 30).size() == 30);
    cursor = reader.position();
  }
  REQUIRE(cursor > group_start + 2 * format::kRecordHeaderBytes);
  // Past the header (a lap and its 40 bytes), not past the record at the cursor.
  std::size_t written = 0;
  while (ring.head_position() <= group_start + capacity + format::kRecordHeaderBytes) {
    REQUIRE(producer.write(as_bytes(texts(1, 40, written++).front()), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
  }
  REQUIRE(ring.head_position() <= cursor + capacity);

  Consumer back = Consumer::attach(ring, {.name = "late", .holds_back = true});
  CHECK(back.stats().lapped_count == 1);
  CHECK(back.stats().lost_bytes > 0);
  std::size_t read = 0;
  const PollResult polled = back.poll([&](const Record&) { read += 1; });
  CHECK(polled.status == PollStatus::ok);
  CHECK(read > 0);
  // And producers are not held below the head.
  CHECK(producer.write(as_bytes(std::string("more")), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
}
