// Reading, padding and finding record frames in the data area.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "atomics.hpp"
#include "data_view.hpp"
#include "ring_file.hpp"
#include "ringfile/format/record_header.hpp"

namespace ringfile::detail {

enum class FrameKind { uncommitted, data, padding, corrupt };

// A data frame is a record, or a group of records (format::FrameType::group, read entry by entry
// with read_group_entry).
struct FrameRead {
  FrameKind kind = FrameKind::uncommitted;
  std::uint64_t commit_word = 0;  // as loaded; the CAS expectation when padding over
  std::uint64_t stride = 0;       // bytes to the next frame (data, padding)
  std::uint32_t frame_length = 0;
  bool checksummed = false;       // data: payload_crc32c (of a group: each entry's) holds the CRC32C
  bool group = false;             // data: a group frame
  const char* problem = nullptr;  // why a frame is corrupt
};

inline std::uint64_t& commit_word_of(std::byte* frame) noexcept {
  return *reinterpret_cast<std::uint64_t*>(frame);
}
inline format::RecordHeader& header_of(std::byte* frame) noexcept {
  return *reinterpret_cast<format::RecordHeader*>(frame);
}

// Bytes of a frame's header that exist before the end of the data area (a padding frame at the
// very end may be as short as 8 bytes).
inline std::uint64_t header_bytes_at(std::uint64_t position, const Geometry& geometry) noexcept {
  const std::uint64_t room = geometry.capacity - geometry.offset_of(position);
  return room < format::kRecordHeaderBytes ? room : format::kRecordHeaderBytes;
}

// Classifies the frame at `position`. Its commit word is loaded with acquire: pairs with the
// seq_cst CAS that committed it (a producer's commit or abort, or a consumer padding over), so
// the header fields and payload written before that CAS are visible.
// @pre frame points at header_bytes_at(position) mapped bytes. Always inline: a consumer calls it
// for every record it reads, and link-time optimisation, weighing poll as a whole, called it.
[[gnu::always_inline]] inline FrameRead read_frame(std::byte* frame, std::uint64_t position,
                                                   const Geometry& geometry) noexcept {
  FrameRead read;
  // Acquire: pairs with the seq_cst CAS of the producer's commit (or of pad_over), so the header
  // fields and payload read after it are those written before that CAS.
  read.commit_word = atomic_field(commit_word_of(frame)).load(std::memory_order_acquire);
  const std::uint32_t length = format::commit_word_length(read.commit_word);
  if (length == 0 || format::commit_word_tag(read.commit_word) != geometry.tag_of(position)) {
    return read;  // zeroed space, a stale frame of an earlier lap, or an open claim
  }
  read.frame_length = length;
  const std::uint64_t room = geometry.capacity - geometry.offset_of(position);
  const auto fail = [&](const char* problem) {
    read.kind = FrameKind::corrupt;
    read.problem = problem;
    return read;
  };
  switch (static_cast<format::FrameType>(format::commit_word_type(read.commit_word))) {
    case format::FrameType::padding:
      if (format::commit_word_checksummed(read.commit_word)) return fail("padding frame marked checksummed");
      if (length % format::kFrameAlignment != 0 || length > room) {
        return fail("padding length out of bounds");
      }
      read.kind = FrameKind::padding;
      read.stride = length;
      return read;
    case format::FrameType::data:
    case format::FrameType::group: {
      const bool group = format::commit_word_type(read.commit_word) == static_cast<std::uint8_t>(format::FrameType::group);
      if (group && length < format::kRecordHeaderBytes + format::kGroupEntryHeaderBytes) {
        return fail("group frame shorter than its header and one entry");
      }
      if (length < format::kRecordHeaderBytes) return fail("record length shorter than its header");
      if (length - format::kRecordHeaderBytes > geometry.max_record_bytes) {
        return fail("record length above the ring's maximum record size");
      }
      read.stride = format::frame_stride(length);
      if (read.stride > room) return fail("record runs past the end of the data area");
      // Relaxed: ordered by the commit word's acquire load above (same frame, same thread).
      const std::uint64_t recorded_position =
          atomic_field(header_of(frame).position).load(std::memory_order_relaxed);
      if (recorded_position != position) return fail("record position field does not match");
      read.kind = FrameKind::data;
      read.checksummed = format::commit_word_checksummed(read.commit_word);
      read.group = group;
      return read;
    }
  }
  return fail("unknown frame type");
}

// One record of a group frame, as its entry says.
struct GroupEntry {
  std::uint64_t payload_bytes = 0;
  std::uint32_t payload_crc = 0;
  std::uint64_t next_offset = 0;  // the next entry's offset in the frame; the frame's length after the last
  const char* problem = nullptr;  // why the entry cannot be right (then the rest is unset)
};

// The entry at `offset` (from the frame's start) of a group frame of `frame_length` bytes (as
// read_frame read and checked it). Every field is checked against the frame: an entry that says
// it lies elsewhere, runs past the frame, or leaves bytes after it that hold no entry is a
// problem. Inline: a consumer reads every record of a group through it.
// @pre frame maps frame_length bytes.
inline GroupEntry read_group_entry(const std::byte* frame, std::uint64_t frame_length, std::uint64_t offset) noexcept {
  GroupEntry entry;
  if (offset < format::kRecordHeaderBytes || offset % format::kFrameAlignment != 0 ||
      offset + format::kGroupEntryHeaderBytes > frame_length) {
    entry.problem = "group entry outside its frame";
    return entry;
  }
  format::GroupEntryHeader header;
  std::memcpy(&header, frame + offset, sizeof header);
  if (std::uint64_t{header.group_offset_words} * format::kFrameAlignment != offset) {
    entry.problem = "group entry does not name its place in the group";
    return entry;
  }
  const std::uint64_t end = offset + format::kGroupEntryHeaderBytes + header.payload_length;
  if (end > frame_length) {
    entry.problem = "group entry runs past the end of its frame";
    return entry;
  }
  // The last entry's payload ends where the frame does; any other's is padded to 8 bytes, and
  // another entry follows.
  entry.next_offset = end == frame_length ? end : format::align_up(end, format::kFrameAlignment);
  if (end != frame_length && entry.next_offset + format::kGroupEntryHeaderBytes > frame_length) {
    entry.problem = "group frame ends inside an entry's padding";
    return entry;
  }
  entry.payload_bytes = header.payload_length;
  entry.payload_crc = header.payload_crc32c;
  return entry;
}

// A record inside a group frame: the group's position, the frame as read_frame read it, and which
// of the group's records it is.
struct GroupPlace {
  std::uint64_t start = 0;
  FrameRead read;
  std::uint64_t index = 0;
};

// The group frame that holds the record whose entry is at `position`, or nullopt when there is
// none: the entry must lead back to a committed group frame of its lap (format::GroupEntryHeader)
// that has an entry starting there. For a saved cursor or a seek that names a record inside a
// group (a record's position, as consumers report it).
std::optional<GroupPlace> locate_group_entry(DataView& view, std::uint64_t position, const Geometry& geometry) noexcept;

// The commit word of a frame as a spinning consumer last saw it (Consumer::wait): while it is
// unchanged there is nothing new to read there, and once it commits a frame of the lap the
// consumer expects, the consumer's poll will read it.
struct CommitWordWatch {
  std::uint64_t* word = nullptr;  // null: nothing watched; every look must be a full one
  std::uint64_t seen = 0;
  std::uint32_t tag = 0;  // the lap tag of the watched frame's position

  // Relaxed loads here: the word is only compared; read_frame loads it again with acquire.
  bool unchanged() const noexcept {
    return word != nullptr && atomic_field(*word).load(std::memory_order_relaxed) == seen;
  }
  // The word commits a frame (a record or padding) of the watched position's lap now.
  bool committed_in_lap() const noexcept {
    if (word == nullptr) return false;
    const std::uint64_t now = atomic_field(*word).load(std::memory_order_relaxed);
    return format::commit_word_length(now) != 0 && format::commit_word_tag(now) == tag;
  }
  // Asks for the lines of the watched frame after its first (the commit word's), as far as its
  // commit word says it reaches and at most kPrefetchedLines of them: a consumer that has just
  // seen the frame committed reads them next, from the producer's cache. Asked now, they come
  // while the wait returns and the poll checks the frame, not after it: a busy-spin ping-pong of
  // 64-byte records (frames of two or three lines) took 0.140 us a hop at the median against 0.150
  // (bench/README.md, "A spinning wait that asks for the rest of the frame"). A prefetch never
  // faults, and the length read here is only a hint (the poll checks the frame before it trusts
  // it), so only the count of lines is bounded. @pre committed_in_lap().
  void prefetch_rest_of_frame() const noexcept {
    constexpr std::uint64_t kPrefetchedLines = 3;
    const std::uint64_t length = format::commit_word_length(atomic_field(*word).load(std::memory_order_relaxed));
    const auto first_line = reinterpret_cast<std::uintptr_t>(word) / format::kCacheLineBytes;
    const std::uintptr_t last_line = (reinterpret_cast<std::uintptr_t>(word) + std::max<std::uint64_t>(length, 1) - 1) /
                                     format::kCacheLineBytes;
    for (std::uintptr_t line = first_line + 1; line <= last_line && line <= first_line + kPrefetchedLines; ++line) {
      __builtin_prefetch(reinterpret_cast<const void*>(line * format::kCacheLineBytes));
    }
  }
};

// Starts watching the frame at `position`, mapped at `frame` (null: an empty watch).
inline CommitWordWatch watch_commit_word(std::byte* frame, std::uint64_t position, const Geometry& geometry) noexcept {
  if (frame == nullptr) return {};
  std::uint64_t* word = &commit_word_of(frame);
  return {word, atomic_field(*word).load(std::memory_order_relaxed), geometry.tag_of(position)};
}

// Fills in what a padding frame of `length` bytes at `position` carries besides its commit word
// (the position, where it fits), and returns the commit word that commits it. The caller stores
// that word; its store publishes the rest (relaxed stores here).
std::uint64_t prepare_padding(std::byte* frame, std::uint64_t position, std::uint64_t length,
                              const Geometry& geometry) noexcept;

// Turns the uncommitted frame at `position` into padding of `length` bytes, if its commit word
// still equals `expected_word`. @pre length is a multiple of 8 and stays inside the lap.
bool pad_over(std::byte* frame, std::uint64_t position, std::uint64_t length,
              std::uint64_t expected_word, const Geometry& geometry) noexcept;

// The producer's commit of the claim that starts with `frame`: replaces the frame's commit word
// by `word` (its record, or padding when the claim is aborted), unless a consumer padded the
// claim over first (after the unblock timeout; then it returns false and the padding stays).
// The word it replaces, whatever an earlier lap or the preparation left there, is not loaded
// beforehand: a consumer that keeps up spins on this very line, and a load at the claim fetched
// the line once to read it and again, to own it, at the commit (see producer.cpp).
bool commit_claimed_frame(std::byte* frame, std::uint64_t word) noexcept;

// The producer's abort of the claim of `length` bytes at `position` that starts with `frame`:
// commit_claimed_frame with padding over the whole claim.
bool abort_claimed_frame(std::byte* frame, std::uint64_t position, std::uint64_t length,
                         const Geometry& geometry) noexcept;

// Writes a committed padding frame on space this caller owns (its own reservation).
void write_padding(std::byte* frame, std::uint64_t position, std::uint64_t length,
                   const Geometry& geometry) noexcept;

// The first frame boundary at or after `from`, found by scanning for a valid frame whose
// position field names its own position and whose successor is valid too (or, given the
// producer table `producers`, the start of an open claim, as the newest record's successor often
// is), and which no open claim in that table covers unless it starts there; lap starts and `head`
// are always boundaries. nullopt when the bytes scanned (a frame's length or two) hold none, as
// when they were overwritten or invalidated during the scan. Used to resynchronise a consumer
// that was lapped, to find the oldest intact record, and by seeks.
std::optional<std::uint64_t> find_boundary(DataView& view, std::uint64_t from, std::uint64_t head,
                                           const Geometry& geometry,
                                           const format::ProducerSlot* producers = nullptr) noexcept;

}  // namespace ringfile::detail
