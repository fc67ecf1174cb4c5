// Seeking next to damaged bytes: a seek by position, by time or by count from the end never hands
// back a start past intact records it was asked for because it stepped over damage; it lands on
// the damage, where the consumer's poll reports it as it does reading from the oldest record, or
// (a position) refuses, naming it. Searches on intact rings: record_search_test.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "data_view.hpp"
#include "record_search.hpp"
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

struct Written {
  std::uint64_t position = 0;
  std::uint64_t time_ns = 0;
  std::string payload;
};

// The tester's ring: "one", "two", "three", a group of five records of 64 bytes, "four", "five";
// every record as read back before any damage, oldest first.
std::vector<Written> write_records(Ring& ring) {
  Producer producer(ring);
  for (const char* text : {"one", "two", "three"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  std::vector<std::string> group;
  for (char letter = 'a'; letter < 'f'; ++letter) group.emplace_back(64, letter);
  std::vector<std::span<const std::byte>> spans;
  for (const std::string& payload : group) spans.push_back(as_bytes(payload));
  REQUIRE(producer.write_batch(spans).records == group.size());
  for (const char* text : {"four", "five"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);

  Consumer reader = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = false});
  std::vector<Written> written;
  const PollResult polled = reader.poll([&](const Record& record) {
    written.push_back({record.position, record.timestamp_ns,
                       std::string(reinterpret_cast<const char*>(record.payload.data()), record.payload.size())});
  });
  REQUIRE(polled.status == PollStatus::ok);
  REQUIRE(written.size() == 10);
  return written;
}

// The group frame holds written[3..7]; its header lies before its first record.
std::uint64_t group_position(const std::vector<Written>& written) {
  return written[3].position - format::kRecordHeaderBytes;
}

void damage_commit_word(const std::filesystem::path& path, Ring& ring, std::uint64_t position, format::FrameType type) {
  // A length far above the maximum record size, in a word otherwise right for its place.
  const std::uint64_t word =
      format::make_commit_word(0x7fffffff, type, detail::file_of(ring).geometry().tag_of(position));
  patch_file(path, static_cast<off_t>(ring.info().data_offset + position), &word, sizeof word);
}

void damage_group_entry(const std::filesystem::path& path, Ring& ring, std::uint64_t entry_position) {
  const std::uint16_t nowhere = 0;  // its group_offset_words: the entry no longer names its group
  patch_file(path, static_cast<off_t>(ring.info().data_offset + entry_position + 2), &nowhere, sizeof nowhere);
}

struct Read {
  std::vector<std::string> payloads;
  PollStatus status = PollStatus::ok;
  std::string error;
};

// Everything a consumer attached with `seek` reads until it is caught up or told of damage.
Read read_from(Ring& ring, const Seek& seek) {
  ConsumerOptions options;
  options.seek = seek;
  options.holds_back = false;
  Consumer consumer = Consumer::attach(ring, options);
  Read read;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      read.payloads.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    });
    if (polled.status != PollStatus::ok) {
      read.status = polled.status;
      read.error = polled.error_message;
      return read;
    }
    if (polled.records == 0) return read;
  }
}

std::string corrupt_at(std::uint64_t position) { return "corrupt record at position " + std::to_string(position); }

}  // namespace

TEST_CASE("seek to the next boundary inside a group with a damaged entry names the damage") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const std::vector<Written> written = write_records(ring);
  const std::uint64_t damaged_entry = written[4].position;  // the group's second record
  damage_group_entry(dir / "ring", ring, damaged_entry);
  // From earliest: "one" ... the group's first record, then the damage.
  const Read earliest = read_from(ring, Seek::earliest());
  REQUIRE(earliest.status == PollStatus::corrupt);
  REQUIRE(earliest.error.find(corrupt_at(damaged_entry)) != std::string::npos);

  // Inside the group's first record: the next boundary is the damaged entry. Before, the seek
  // returned the frame after the group, and "four" was read with the group's three intact
  // records after the damage gone without a word.
  for (const bool next_boundary : {true, false}) {
    CAPTURE(next_boundary);
    try {
      const Read read = read_from(ring, Seek::to_position(written[3].position + 16, next_boundary));
      FAIL("the seek started at a boundary past the damage; read " << read.payloads.size() << " records");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::corrupt);
      const std::string message = error.what();
      CHECK(message.find(corrupt_at(damaged_entry)) != std::string::npos);
      CHECK(message.find("does not name its place") != std::string::npos);
      CHECK(message.find("the first boundary after it") != std::string::npos);  // where to read on
    }
  }
  // A record boundary before the damage, and one after it, are still where a seek may start.
  CHECK(read_from(ring, Seek::to_position(written[3].position)).status == PollStatus::corrupt);
  CHECK(read_from(ring, Seek::to_position(written[8].position)).payloads == std::vector<std::string>{"four", "five"});
}

TEST_CASE("seek to the next boundary inside a group whose header is damaged names the damage") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const std::vector<Written> written = write_records(ring);
  const std::uint64_t group = group_position(written);
  damage_commit_word(dir / "ring", ring, group, format::FrameType::group);
  REQUIRE(read_from(ring, Seek::earliest()).error.find(corrupt_at(group)) != std::string::npos);
  try {
    read_from(ring, Seek::to_position(written[4].position + 8, true));
    FAIL("the seek started at a boundary past the damage");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::corrupt);
    CHECK(std::string(error.what()).find(corrupt_at(group)) != std::string::npos);
  }
}

TEST_CASE("seek by time never starts past damage that may hold the records asked for") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const std::vector<Written> written = write_records(ring);
  const std::uint64_t group = group_position(written);
  damage_commit_word(dir / "ring", ring, group, format::FrameType::group);
  const Read earliest = read_from(ring, Seek::earliest());
  REQUIRE(earliest.payloads == std::vector<std::string>{"one", "two", "three"});
  REQUIRE(earliest.error.find(corrupt_at(group)) != std::string::npos);

  // Before, the search stepped over the damaged group (and over "three", whose successor it is)
  // and started at "four", exit 0: at the first record's time it read "four", "five" only.
  // Now: the records before the damage at or after the time, then the damage. The group's
  // records carry its time, so at that time nothing before the damage is asked for.
  for (const std::uint64_t time_ns : {written[0].time_ns, written[3].time_ns}) {
    CAPTURE(time_ns);
    std::vector<std::string> expected;
    for (std::size_t index = 0; index < 3; ++index) {
      if (written[index].time_ns >= time_ns) expected.push_back(written[index].payload);
    }
    const Read read = read_from(ring, Seek::to_time(std::chrono::system_clock::time_point(
                                          std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                              std::chrono::nanoseconds(time_ns)))));
    CHECK(read.payloads == expected);
    CHECK(read.status == PollStatus::corrupt);
    CHECK(read.error.find(corrupt_at(group)) != std::string::npos);
  }
  // After the damage, records are found as on an intact ring.
  const Read after = read_from(ring, Seek::to_time(std::chrono::system_clock::time_point(
                                         std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                             std::chrono::nanoseconds(written[9].time_ns)))));
  CHECK(after.status == PollStatus::ok);
  CHECK(!after.payloads.empty());
  CHECK(after.payloads.back() == "five");
}

TEST_CASE("seek to the N-th last record counts past damage before them, and lands on damage among them") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const std::vector<Written> written = write_records(ring);
  damage_commit_word(dir / "ring", ring, written[1].position, format::FrameType::data);  // "two"
  REQUIRE(read_from(ring, Seek::earliest()).error.find(corrupt_at(written[1].position)) != std::string::npos);

  // Damage before the last three: they are found (before, the search gave up on the damage and
  // started at the oldest record, "one", then stopped at the damage).
  const Read last_three = read_from(ring, Seek::last_records(3));
  CHECK(last_three.status == PollStatus::ok);
  CHECK(last_three.payloads == std::vector<std::string>{written[7].payload, "four", "five"});
  // All eight intact records after the damage.
  const Read last_eight = read_from(ring, Seek::last_records(8));
  CHECK(last_eight.status == PollStatus::ok);
  CHECK(last_eight.payloads.size() == 8);
  CHECK(last_eight.payloads.front() == "three");
  // The ninth last lies in the damage or before it: the seek lands on it, and the damage is
  // reported before any record, as from earliest it is after "one".
  for (const std::uint64_t count : {9, 100}) {
    CAPTURE(count);
    const Read read = read_from(ring, Seek::last_records(count));
    CHECK(read.payloads.empty());
    CHECK(read.status == PollStatus::corrupt);
    CHECK(read.error.find(corrupt_at(written[1].position)) != std::string::npos);
  }
}

TEST_CASE("seek to the N-th last record lands on a group with a damaged entry among them") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  const std::vector<Written> written = write_records(ring);
  damage_group_entry(dir / "ring", ring, written[5].position);  // the group's third record
  // A consumer told of a damaged entry reads on after the group (its other entries cannot be
  // trusted to say where they lie), so two records follow the damage: "four", "five".
  CHECK(read_from(ring, Seek::last_records(2)).payloads == std::vector<std::string>{"four", "five"});
  // The third last lies in the damage. A consumer cannot start inside a group past a damaged
  // entry, so the seek lands on the group: its records before the damage, then the damage.
  const Read read = read_from(ring, Seek::last_records(3));
  CHECK(read.payloads == std::vector<std::string>{written[3].payload, written[4].payload});
  CHECK(read.status == PollStatus::corrupt);
  CHECK(read.error.find(corrupt_at(written[5].position)) != std::string::npos);
}

TEST_CASE("seek by time scans a long damaged stretch once, not once for every probe that lands in it") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(4 * 1024 * 1024, WriterPolicy::overwrite, 1024));
  Producer producer(ring);
  const std::string payload(1000, 'r');
  while (ring.head_position() < 3 * 1024 * 1024) REQUIRE(producer.write(as_bytes(payload)) == ClaimStatus::ok);
  std::vector<Written> records;
  {
    Consumer reader = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = false});
    const auto keep = [&](const Record& record) { records.push_back({record.position, record.timestamp_ns, {}}); };
    while (reader.poll(keep).records > 0) {
    }
  }
  // A crash's garbage over the records from 1 MiB to 2 MiB.
  constexpr std::uint64_t kStretchStart = 1024 * 1024;
  constexpr std::uint64_t kStretchBytes = 1024 * 1024;
  const std::string garbage(kStretchBytes, '\xab');
  patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + kStretchStart), garbage.data(), garbage.size());
  // The first record after the garbage: every probe that lands in the stretch finds it, at or
  // after the time asked for, and the search narrows down through the stretch.
  const auto past_stretch = [&](const Written& record) { return record.position >= kStretchStart + kStretchBytes; };
  const auto after = std::find_if(records.begin(), records.end(), past_stretch);
  REQUIRE(after != records.end());

  detail::RingFile& file = detail::file_of(ring);
  detail::DataView view(file, detail::DataView::Access::read_only);
  detail::RecordSearch search(file, view);
  const std::uint64_t found = search.first_at_or_after(after->time_ns);
  INFO("probes " << search.cost().probes << ", bytes scanned " << search.cost().scanned_bytes);
  // On the damage (it may hold the records asked for) or before it, never past the record.
  CHECK(found <= after->position);
  // The stretch once, and about a maximum frame's scan around each probe besides.
  CHECK(search.cost().scanned_bytes <= kStretchBytes + search.cost().probes * 2 * file.geometry().max_frame_stride);
}
