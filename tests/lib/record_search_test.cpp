// Seeking: the first record at or after a time, the N-th last record and the next boundary, found
// in a number of steps that grows with log(capacity) and N, never with the ring's size; also while
// a producer process overwrites the oldest records during the search.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <thread>

#include "data_view.hpp"
#include "paging.hpp"
#include "record_search.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

struct Seen {
  std::uint64_t position = 0;
  std::uint64_t time_ns = 0;
  std::uint32_t frame_bytes = 0;
};

// Every record still intact, oldest first. (StartFrom::earliest keeps a margin from the oldest
// record, for rings that producers are writing; this one they are not.)
std::vector<Seen> intact_records(const Ring& ring) {
  detail::DataView view(detail::file_of(ring), detail::DataView::Access::read_only);
  const std::uint64_t oldest = detail::oldest_intact_boundary(detail::file_of(ring), view, 0);
  Consumer reader = Consumer::attach(ring, {.start_position = oldest, .holds_back = false});
  std::vector<Seen> seen;
  for (;;) {
    const PollResult polled = reader.poll([&](const Record& record) {
      seen.push_back({record.position, record.timestamp_ns,
                      static_cast<std::uint32_t>(format::frame_stride(format::kRecordHeaderBytes + record.payload.size()))});
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) return seen;
  }
}

// Synthetic records of 24 to 400 bytes until the ring has wrapped `laps` times.
void write_laps(Ring& ring, double laps) {
  Producer producer(ring);
  std::vector<std::byte> payload(400);
  const auto target = static_cast<std::uint64_t>(laps * static_cast<double>(ring.info().capacity_bytes));
  for (std::uint64_t sequence = 0; ring.head_position() < target; ++sequence) {
    const std::size_t size = synthetic_size(1, sequence, 24, 400);
    fill_synthetic({payload.data(), size}, 1, sequence);
    REQUIRE(producer.write({payload.data(), size}, std::chrono::nanoseconds(0)) == ClaimStatus::ok);
  }
}

std::uint64_t expected_at_or_after(const std::vector<Seen>& records, std::uint64_t time_ns, std::uint64_t head) {
  for (const Seen& record : records) {
    if (record.time_ns >= time_ns) return record.position;
  }
  return head;
}

std::chrono::system_clock::time_point at(std::uint64_t time_ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(time_ns)));
}

}  // namespace

TEST_CASE("seek by time on a ring of many laps: the first record at or after it, in log(capacity) probes") {
  TempDir dir;
  const std::uint64_t capacity = 1024 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  write_laps(ring, 24.5);
  const std::vector<Seen> records = intact_records(ring);
  REQUIRE(records.size() > 1000);
  const std::uint64_t head = ring.head_position();

  detail::RingFile& file = detail::file_of(ring);
  detail::DataView view(file, detail::DataView::Access::read_only);
  const auto max_probes = static_cast<std::uint64_t>(std::log2(static_cast<double>(capacity) / 8)) + 2;
  std::vector<std::uint64_t> times{0, records.front().time_ns - 1, records.back().time_ns + 1};
  for (std::size_t index = 0; index < records.size(); index += records.size() / 97) {
    times.push_back(records[index].time_ns);
    times.push_back(records[index].time_ns + 1);
  }
  for (const std::uint64_t time_ns : times) {
    detail::RecordSearch search(file, view);
    const std::uint64_t found = search.first_at_or_after(time_ns);
    INFO("time " << time_ns);
    CHECK(found == expected_at_or_after(records, time_ns, head));
    CHECK(search.cost().probes <= max_probes);
    // A probe reads the record it lands on, and the padding at a lap's end before one.
    CHECK(search.cost().frames <= 2 * search.cost().probes + 2);
  }
  // Through the public API: a consumer starting there reads that record first.
  const Seen& middle = records[records.size() / 2];
  Consumer consumer = Consumer::attach(ring, {.seek = Seek::to_time(at(middle.time_ns))});
  std::uint64_t first = 0;
  consumer.poll([&](const Record& record) { first = record.position; }, 1);
  CHECK(first == expected_at_or_after(records, middle.time_ns, head));
}

TEST_CASE("seek to the N-th last record reads about N records, not the ring") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1024 * 1024));
  write_laps(ring, 6.3);
  const std::vector<Seen> records = intact_records(ring);
  detail::RingFile& file = detail::file_of(ring);
  detail::DataView view(file, detail::DataView::Access::read_only);
  for (const std::uint64_t count : {std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{100}, std::uint64_t{1000},
                                    std::uint64_t{records.size()}}) {
    detail::RecordSearch search(file, view);
    INFO("last " << count);
    CHECK(search.last_records(count) == records[records.size() - count].position);
    if (count < records.size() / 2) CHECK(search.cost().frames <= 4 * count + 64);
  }
  detail::RecordSearch search(file, view);
  CHECK(search.last_records(records.size() + 5) == records.front().position);  // fewer: all of them
  CHECK(search.last_records(0) == ring.head_position());
}

TEST_CASE("seek on a ring that has not wrapped, and on an empty one") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1024 * 1024));
  Consumer at_time = Consumer::attach(ring, {.seek = Seek::to_time(std::chrono::system_clock::now())});
  CHECK(at_time.position() == 0);
  Consumer last = Consumer::attach(ring, {.seek = Seek::last_records(10)});
  CHECK(last.position() == 0);
  write_laps(ring, 0.5);
  const std::vector<Seen> records = intact_records(ring);
  CHECK(Consumer::attach(ring, {.seek = Seek::to_time(at(0))}).position() == 0);
  CHECK(Consumer::attach(ring, {.seek = Seek::last_records(3)}).position() == records[records.size() - 3].position);
  CHECK(Consumer::attach(ring, {.seek = Seek::to_time(at(records.back().time_ns + 1))}).position() ==
        ring.head_position());
}

TEST_CASE("a start position inside a record is refused naming the next one, or rounded up when asked") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  write_laps(ring, 0.5);
  const std::vector<Seen> records = intact_records(ring);
  const std::uint64_t inside = records[5].position + 13;
  try {
    Consumer::attach(ring, {.start_position = inside});
    FAIL("a position inside a record was accepted");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::invalid_argument);
    CHECK(std::string(error.what()).find("position " + std::to_string(inside) +
                                         " is inside a record, not at its start; the next record starts at " +
                                         std::to_string(records[6].position)) != std::string::npos);
  }
  CHECK(Consumer::attach(ring, {.seek = Seek::to_position(inside, true)}).position() == records[6].position);
  CHECK(Consumer::attach(ring, {.seek = Seek::to_position(records[7].position, true)}).position() ==
        records[7].position);
}

TEST_CASE("a lap's last record with 8 bytes of padding after it is found by position and by time") {
  // The record after it did not fit in the lap's last 8 bytes: they hold a padding frame too short
  // to name its position, which a search once took for bytes inside a frame, and it found the
  // record after (the first of the next lap) instead.
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::overwrite));
  const std::uint64_t full_frame = format::frame_stride(format::kRecordHeaderBytes + 4000);
  const std::uint64_t last_frame = capacity - 8 - 16 * full_frame;
  {
    Producer producer(ring);
    std::uint64_t sequence = 0;
    for (; sequence < 16; ++sequence) {
      REQUIRE(producer.write(synthetic_payload(1, sequence, 4000)) == ClaimStatus::ok);
    }
    REQUIRE(producer.write(synthetic_payload(1, sequence++, last_frame - format::kRecordHeaderBytes)) == ClaimStatus::ok);
    for (int more = 0; more < 4; ++more) {
      REQUIRE(producer.write(synthetic_payload(1, sequence++, 100)) == ClaimStatus::ok);
    }
  }
  const std::vector<Seen> records = intact_records(ring);
  const auto last_of_lap = std::find_if(records.begin(), records.end(), [&](const Seen& record) {
    return record.frame_bytes == last_frame;
  });
  REQUIRE(last_of_lap != records.end());
  REQUIRE(last_of_lap != records.begin());
  REQUIRE((last_of_lap->position + last_frame) % capacity == capacity - 8);
  REQUIRE(std::next(last_of_lap)->position % capacity == 0);

  // From inside the record before it, the next boundary is this record, not the next lap's first.
  const std::uint64_t inside_previous = last_of_lap->position - 8;
  CHECK(Consumer::attach(ring, {.seek = Seek::to_position(inside_previous, true)}).position() == last_of_lap->position);
  const std::uint64_t expected = expected_at_or_after(records, last_of_lap->time_ns, ring.head_position());
  CHECK(Consumer::attach(ring, {.seek = Seek::to_time(at(last_of_lap->time_ns))}).position() == expected);
}

TEST_CASE("seek by time while a producer process overwrites the oldest records") {
  TempDir dir;
  const std::uint64_t capacity = 256 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::overwrite));
  ChildProcess producer("produce-until-killed", {(dir / "ring").string(), "9", "24", "2000"});
  REQUIRE(producer.read_line() == std::optional<std::string>("started"));
  // A tap follows the producer and remembers the records it saw right after their predecessor:
  // for those, "the first record at or after my time" is exactly that record.
  Consumer tap = Consumer::attach(ring, {.start = StartFrom::latest});
  std::deque<Seen> candidates;
  Seen previous;
  int exact = 0;
  int overwritten_meanwhile = 0;
  for (int round = 0; round < 200 || exact < 20;) {
    // Every other round looks for the newest record with the producer stopped from before the tap
    // reads until the reader has read: intact throughout, it must be found exactly, however long
    // a search takes against a lap of the producer (under a sanitizer, the ring laps many times
    // during one, and the newest record was seldom intact at its end). The other rounds look for
    // the oldest record while the producer runs, and it is often overwritten while searched for.
    const bool newest = round % 2 == 1;
    if (newest) producer.stop();
    const PollResult tapped = tap.poll([&](const Record& record) {
      const Seen seen{record.position, record.timestamp_ns,
                      static_cast<std::uint32_t>(format::frame_stride(format::kRecordHeaderBytes + record.payload.size()))};
      if (previous.position + previous.frame_bytes == seen.position && previous.time_ns < seen.time_ns) {
        candidates.push_back(seen);
      }
      previous = seen;
    });
    REQUIRE(tapped.status == PollStatus::ok);
    while (candidates.size() > 512) candidates.pop_front();
    if (tapped.records == 0 || candidates.empty()) {
      if (newest) producer.resume();
      tap.wait(std::chrono::milliseconds(100));  // the producer process may not be running right now
      continue;
    }
    const Seen target = newest ? candidates.back() : candidates.front();
    ++round;
    Consumer reader = Consumer::attach(ring, {.seek = Seek::to_time(at(target.time_ns))});
    // The frontier of what producers and the paging engine may have overwritten only grows: if it
    // is still within a lap of the target after the search, the target was intact during all of
    // it, and the search must have found it. The frontier, not the head: the paging engine may
    // invalidate the next lap's bytes a little ahead of the head.
    const bool intact_throughout =
        detail::reclaimed_frontier(detail::file_of(ring)) <= target.position + capacity;
    if (newest) CHECK(intact_throughout);
    if (intact_throughout) {
      CHECK(reader.position() == target.position);
      ++exact;
    } else {
      // Overwritten meanwhile: the search found a later record, at or after the time asked for.
      CHECK(reader.position() >= target.position);
      ++overwritten_meanwhile;
    }
    std::optional<Record> first;
    while (!first) {
      const PollResult polled = reader.poll([&](const Record& record) { first = record; }, 1);
      REQUIRE(polled.status == PollStatus::ok);
      if (polled.records == 0) reader.wait(std::chrono::milliseconds(100));
    }
    CHECK(first->timestamp_ns >= target.time_ns);
    if (intact_throughout && first->position != target.position) {
      // Overwritten between the search and the first poll: the consumer reports the loss.
      CHECK(reader.stats().lost_bytes > 0);
    }
    if (newest) producer.resume();
  }
  producer.kill_hard();
  MESSAGE(exact << " intact during the search and found exactly, " << overwritten_meanwhile
                << " overwritten while searching");
  CHECK(tap.stats().checksum_failures == 0);
}
