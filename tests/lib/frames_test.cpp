// The producer's commit of a claimed frame (frames.cpp): it replaces whatever an earlier lap left
// in the frame without having loaded it first, and fails only when a consumer padded the claim
// over in this lap. A spinning consumer's watch on a frame's commit word. Reading a group frame
// and its entries, whose every field is checked against the frame.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "frames.hpp"
#include "ring_file.hpp"

namespace ringfile::detail {
namespace {

using format::FrameType;

constexpr std::uint64_t kCapacity = 1 << 20;
constexpr std::uint64_t kPosition = 5 * kCapacity + 4096;  // lap 5

Geometry geometry() {
  Geometry geometry;
  geometry.set_capacity(kCapacity);
  geometry.lap_tag_salt = 0x5a17ed;
  return geometry;
}

// A frame's bytes, aligned as in the mapping.
struct alignas(64) FrameBytes {
  std::array<std::byte, 128> bytes{};
  std::byte* data() { return bytes.data(); }
  std::uint64_t word() { return commit_word_of(data()); }
};

std::uint64_t record_word(const Geometry& geometry, std::uint64_t position) {
  return format::make_commit_word(64, FrameType::data, geometry.tag_of(position), format::kChecksummedFlag);
}

std::uint64_t padding_word(const Geometry& geometry, std::uint64_t position, std::uint32_t length) {
  return format::make_commit_word(length, FrameType::padding, geometry.tag_of(position));
}

TEST_CASE("a claimed frame commits over whatever an earlier lap or the preparation left in it") {
  const Geometry ring = geometry();
  const std::uint64_t committed = record_word(ring, kPosition);
  const std::uint64_t earlier_lap = kPosition - kCapacity;
  const std::uint64_t stale_words[] = {
      0,                                        // a new file, a prepared (zero-filled) range
      record_word(ring, earlier_lap),           // the previous lap's record at this offset
      padding_word(ring, earlier_lap, 104),     // the previous lap's padding at this offset
      padding_word(ring, kPosition - 4 * kCapacity, 64),  // an older lap's
      0x0123456789abcdefULL,                    // the middle of an earlier lap's payload
      record_word(ring, kPosition),             // payload bytes that happen to read as this lap's record
  };
  for (const std::uint64_t stale : stale_words) {
    CAPTURE(stale);
    FrameBytes frame;
    std::memcpy(frame.data(), &stale, sizeof stale);
    CHECK(commit_claimed_frame(frame.data(), committed));
    CHECK(frame.word() == committed);
  }
}

TEST_CASE("an aborted claim commits padding over an earlier lap's bytes") {
  const Geometry ring = geometry();
  const std::uint64_t padding = padding_word(ring, kPosition, 104);
  FrameBytes frame;
  const std::uint64_t stale = record_word(ring, kPosition - kCapacity);
  std::memcpy(frame.data(), &stale, sizeof stale);
  CHECK(abort_claimed_frame(frame.data(), kPosition, 104, ring));
  CHECK(frame.word() == padding);
  CHECK(header_of(frame.data()).position == kPosition);
}

TEST_CASE("a claim a consumer padded over in this lap does not commit, and the padding stays") {
  const Geometry ring = geometry();
  for (const std::uint64_t stale : {std::uint64_t{0}, record_word(ring, kPosition - kCapacity)}) {
    CAPTURE(stale);
    FrameBytes frame;
    std::memcpy(frame.data(), &stale, sizeof stale);
    // As a consumer does once the claim outlived the unblock timeout: from what it found there.
    REQUIRE(pad_over(frame.data(), kPosition, 104, stale, ring));
    const std::uint64_t padded = frame.word();
    CHECK(!commit_claimed_frame(frame.data(), record_word(ring, kPosition)));
    CHECK(frame.word() == padded);
    // The claim's own abort fails the same way.
    CHECK(!abort_claimed_frame(frame.data(), kPosition, 104, ring));
    CHECK(frame.word() == padded);
  }
}

TEST_CASE("a watch on a commit word sees a change, and tells a commit of its lap from other words") {
  const Geometry ring = geometry();
  FrameBytes frame;
  const std::uint64_t stale = record_word(ring, kPosition - kCapacity);
  std::memcpy(frame.data(), &stale, sizeof stale);
  const CommitWordWatch watch = watch_commit_word(frame.data(), kPosition, ring);
  CHECK(watch.unchanged());
  CHECK_FALSE(watch.committed_in_lap());

  const auto store = [&](std::uint64_t word) { std::memcpy(frame.data(), &word, sizeof word); };
  store(0);  // zero-filled by the preparation
  CHECK_FALSE(watch.unchanged());
  CHECK_FALSE(watch.committed_in_lap());
  store(record_word(ring, kPosition + kCapacity));  // a record of the next lap: not for us
  CHECK_FALSE(watch.committed_in_lap());
  store(record_word(ring, kPosition));
  CHECK(watch.committed_in_lap());
  store(padding_word(ring, kPosition, 104));
  CHECK(watch.committed_in_lap());

  const CommitWordWatch nothing = watch_commit_word(nullptr, kPosition, ring);
  CHECK_FALSE(nothing.unchanged());  // no view: every look is a full one
  CHECK_FALSE(nothing.committed_in_lap());
}


namespace {

// A group frame at kPosition in `bytes`: its header, then entries of the given payload sizes.
// Returns the frame's length.
std::uint32_t write_group(FrameBytes& frame, const Geometry& geometry, std::initializer_list<std::uint16_t> payloads) {
  std::uint64_t offset = format::kRecordHeaderBytes;
  std::uint64_t length = 0;
  for (const std::uint16_t payload : payloads) {
    const format::GroupEntryHeader entry{payload, static_cast<std::uint16_t>(offset / 8), 0};
    std::memcpy(frame.data() + offset, &entry, sizeof entry);
    length = offset + format::kGroupEntryHeaderBytes + payload;
    offset += format::kGroupEntryHeaderBytes + format::frame_stride(payload);
  }
  header_of(frame.data()).position = kPosition;
  commit_word_of(frame.data()) =
      format::make_commit_word(static_cast<std::uint32_t>(length), FrameType::group, geometry.tag_of(kPosition));
  return static_cast<std::uint32_t>(length);
}

}  // namespace

TEST_CASE("a group frame reads as data, and its entries lead from one to the next up to its end") {
  Geometry ring = geometry();
  ring.max_record_bytes = 4096;
  FrameBytes frame;
  const std::uint32_t length = write_group(frame, ring, {5, 16, 3});
  CHECK(length == 40 + (8 + 8) + (8 + 16) + (8 + 3));
  const FrameRead read = read_frame(frame.data(), kPosition, ring);
  REQUIRE(read.kind == FrameKind::data);
  CHECK(read.group);
  CHECK(read.frame_length == length);
  const GroupEntry first = read_group_entry(frame.data(), length, 40);
  REQUIRE(first.problem == nullptr);
  CHECK(first.payload_bytes == 5);
  CHECK(first.next_offset == 56);
  const GroupEntry second = read_group_entry(frame.data(), length, first.next_offset);
  REQUIRE(second.problem == nullptr);
  CHECK(second.next_offset == 80);
  const GroupEntry last = read_group_entry(frame.data(), length, second.next_offset);
  REQUIRE(last.problem == nullptr);
  CHECK(last.payload_bytes == 3);
  CHECK(last.next_offset == length);
}

TEST_CASE("a group entry that does not fit its frame is a problem, never read past") {
  Geometry ring = geometry();
  ring.max_record_bytes = 4096;
  FrameBytes frame;
  const std::uint32_t length = write_group(frame, ring, {5, 16, 3});
  CHECK(read_group_entry(frame.data(), length, 44).problem != nullptr);      // off the 8-byte grid
  CHECK(read_group_entry(frame.data(), length, 32).problem != nullptr);      // inside the header
  CHECK(read_group_entry(frame.data(), length, length).problem != nullptr);  // past the end
  // The middle entry's length runs past the frame.
  format::GroupEntryHeader entry{};
  std::memcpy(&entry, frame.data() + 56, sizeof entry);
  entry.payload_length = 100;
  std::memcpy(frame.data() + 56, &entry, sizeof entry);
  CHECK(std::string(read_group_entry(frame.data(), length, 56).problem).find("past the end") != std::string::npos);
  // Shorter, so that the frame ends inside its padding, where no entry fits.
  entry.payload_length = 15;
  std::memcpy(frame.data() + 56, &entry, sizeof entry);
  CHECK(read_group_entry(frame.data(), 80, 56).problem != nullptr);
  // An entry naming another place in the group.
  entry.payload_length = 16;
  entry.group_offset_words = 5;
  std::memcpy(frame.data() + 56, &entry, sizeof entry);
  CHECK(std::string(read_group_entry(frame.data(), length, 56).problem).find("place") != std::string::npos);
  // A group frame too short for one entry.
  commit_word_of(frame.data()) = format::make_commit_word(44, FrameType::group, ring.tag_of(kPosition));
  CHECK(read_frame(frame.data(), kPosition, ring).kind == FrameKind::corrupt);
}

}  // namespace
}  // namespace ringfile::detail
