// The ring's session (lib/src/ring_session.cpp): consumers read committed frames past the head
// they last loaded only when the frames carry the generation of the session that is writing now,
// so that what a crash of the machine left past the header's head is never handed out.
#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "ring_access.hpp"
#include "ringfile/format/file_header.hpp"
#include "support/file_bytes.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

constexpr std::size_t kSessionKeyOffset = offsetof(format::FileHeader, session) + offsetof(format::SessionLine, session_key);

std::vector<std::string> numbered(const std::string& prefix, int from, int to) {
  std::vector<std::string> records;
  for (int index = from; index < to; ++index) records.push_back(prefix + std::to_string(index));
  return records;
}

void write_all(const Ring& ring, const std::vector<std::string>& records) {
  Producer producer(ring);
  for (const std::string& record : records) REQUIRE(producer.write(as_bytes(record)) == ClaimStatus::ok);
}

// A ring as a crash of the machine can leave it: the header page written back after "kept-0" to
// "kept-3", the data pages after "stale4" to "stale9" as well, and then the machine restarted
// (another boot: the session key in the file is not this one's). Every record is 6 bytes, so
// records written from the head on line up with the stale frames exactly.
void leave_as_after_a_machine_crash(const std::filesystem::path& path) {
  {
    Ring ring = Ring::create(path, small_ring(1 << 20));
    write_all(ring, numbered("kept-", 0, 4));
    const std::vector<char> header = read_file_bytes(path, 0, format::kHeaderSegmentBytes);
    write_all(ring, numbered("stale", 4, 10));
    patch_file(path, 0, header.data(), header.size());
  }
  const std::uint64_t another_boot = 12345;
  patch_file(path, kSessionKeyOffset, &another_boot, sizeof another_boot);
}

}  // namespace

TEST_CASE("frames a crash of the machine left past the head are never read, even where new records line up with them") {
  TempDir dir;
  leave_as_after_a_machine_crash(dir / "ring");
  Ring ring = Ring::open(dir / "ring");
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  CHECK(drain(consumer) == numbered("kept-", 0, 4));
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(10)));
  // "fresh4" to "fresh6" land where "stale4" to "stale6" were; "stale7" and on stay past the head,
  // committed, at their own positions, in the lap the head is in: only their generation tells.
  write_all(ring, numbered("fresh", 4, 7));
  CHECK(drain(consumer) == numbered("fresh", 4, 7));
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(10)));
  write_all(ring, numbered("fresh", 7, 9));
  CHECK(drain(consumer) == numbered("fresh", 7, 9));
}

TEST_CASE("a read-only open that finds another session's key reads nothing past the head") {
  TempDir dir;
  leave_as_after_a_machine_crash(dir / "ring");
  // A tap (ringfile-status, a read-only consumer) may not start the new session, and the
  // generation in the file is the crashed session's, carried by the stale frames too.
  Ring tap_ring = Ring::open(dir / "ring", {.read_only = true});
  CHECK(detail::file_of(tap_ring).frame_generation() == 0);
  Consumer tap = Consumer::attach(tap_ring, {.start = StartFrom::earliest, .holds_back = false});
  CHECK(drain(tap) == numbered("kept-", 0, 4));
  // A writer starts the session; the tap still reads the new records up to the head.
  Ring ring = Ring::open(dir / "ring");
  CHECK(detail::file_of(ring).frame_generation() != 0);
  write_all(ring, numbered("fresh", 4, 6));
  CHECK(drain(tap) == numbered("fresh", 4, 6));
}

TEST_CASE("opens in one session share its generation; a new session starts the next one, and frames carry it") {
  TempDir dir;
  Ring created = Ring::create(dir / "ring", small_ring(1 << 20));
  const format::SessionLine& session = detail::file_of(created).header().session;
  const std::uint64_t key = session.session_key;
  const std::uint64_t generation = session.generation;
  CHECK(key != 0);
  CHECK(detail::file_of(created).frame_generation() == format::frame_generation(generation));
  Ring again = Ring::open(dir / "ring");
  CHECK(session.generation == generation);
  CHECK(detail::file_of(again).frame_generation() == format::frame_generation(generation));

  const std::uint64_t another_boot = key + 1;
  patch_file(dir / "ring", kSessionKeyOffset, &another_boot, sizeof another_boot);
  Ring restarted = Ring::open(dir / "ring");
  CHECK(session.generation == generation + 1);
  CHECK(session.session_key == key);
  const std::uint16_t next = detail::file_of(restarted).frame_generation();
  CHECK(next == format::frame_generation(generation + 1));
  CHECK(next != format::frame_generation(generation));

  write_all(restarted, {"one"});
  const std::vector<char> frame =
      read_file_bytes(dir / "ring", static_cast<off_t>(restarted.info().data_offset), sizeof(format::RecordHeader));
  format::RecordHeader header{};
  std::memcpy(&header, frame.data(), sizeof header);
  CHECK(header.generation == next);
}
