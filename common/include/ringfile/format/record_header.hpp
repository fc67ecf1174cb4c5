// Record framing in the data area.
//
//   frame start (8-byte aligned position)
//   0   +-----------------+-----------------------------+
//       | frame_length u32| type u8 | lap tag u24       |  <- commit word (one 64-bit atomic)
//       |                 | 7 bits FrameType, 1 bit kChecksummedFlag    |
//   8   +-----------------+-----------------------------+
//       | position u64 (the frame's own position)       |
//   16  +-----------------------------------------------+
//       | timestamp_ns u64 (CLOCK_REALTIME at commit)   |
//   24  +-----------------------------------------------+
//       | producer_sequence u64                         |
//   32  +------------------+-------------+--------------+
//       | payload_crc32c   | producer_slot | generation |
//   40  +------------------+-------------+--------------+
//       | payload (frame_length - 40 bytes)             |
//       | zero to 7 bytes to the next 8-byte boundary   |
//       +-----------------------------------------------+
//
// The commit word is stored last, with release semantics: that store is the commit. It carries a
// lap tag derived from position / capacity, so the stale frame of an earlier lap, still in the
// bytes ahead of the head, never reads as committed. A frame never crosses the end of the data
// area: a record that does not fit is preceded by a padding frame that runs to the end. Padding
// frames are at least 8 bytes; only their commit word (and position, when >= 16 bytes) is valid.
//
// Whether a data frame carries a checksum is said in its commit word (kChecksummedFlag), not by
// a non-zero payload_crc32c: after a crash of the machine a header that straddles a page boundary
// can come back with its commit word new and its second page old or zero, and a zero checksum
// then read as "not checksummed" would hand out whatever the payload's pages hold. With the flag
// in the word that commits the frame, a checksummed record's stored CRC is always checked (format
// version 2.0; version 1 files, which carry no flag, are refused).
//
// A group frame (FrameType::group, version 3.0) holds several records of one producer written
// together (Producer::write_batch) under one header: the header's timestamp is every record's,
// its producer_sequence the first record's (the others follow on), its payload_crc32c unused
// (zero). After the header come the records one after another, each a GroupEntryHeader and its
// payload, padded to 8 bytes but for the last, whose payload ends where the frame does:
//
//   40  +--------------------+------------------------+--------------------+
//       | payload_length u16 | group_offset_words u16 | payload_crc32c u32 |
//   48  +--------------------+------------------------+--------------------+
//       | payload, then 0 to 7 bytes to the next 8-byte boundary           |
//       +-- the next entry ...                                             |
//
// A record in a group has the position of its entry (the group's position plus the entry's
// offset), so that every record has a position of its own, where a cursor may stand; the
// entry's group_offset leads from there back to the group's header, and the commit word there
// is the whole group's commit. With kChecksummedFlag, each entry's payload_crc32c holds the CRC32C
// of its payload.
//
// `generation` (version 2.1; zero before) is frame_generation() of the ring's session generation
// when the frame was written (file_header.hpp, SessionLine). Consumers read a data frame past the
// head they last loaded only when it carries the current one; below the head it is not looked at.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ringfile/format/layout.hpp"

namespace ringfile::format {

enum class FrameType : std::uint8_t {
  data = 1,
  padding = 2,
  group = 3,  // version 3.0
};

// The commit word's type byte: the FrameType in the low 7 bits, and this flag, set only on data
// frames whose payload_crc32c holds the CRC32C of the payload (any value, zero included).
inline constexpr std::uint8_t kFrameTypeMask = 0x7F;
inline constexpr std::uint8_t kChecksummedFlag = 0x80;

struct RecordHeader {
  std::uint32_t frame_length;  // header + payload, unaligned; 0 = not committed
  std::uint32_t type_and_tag;  // FrameType and kChecksummedFlag in the low 8 bits, lap tag in the high 24
  std::uint64_t position;
  std::uint64_t timestamp_ns;  // CLOCK_REALTIME at commit, to microseconds (docs/format.md)
  std::uint64_t producer_sequence;
  std::uint32_t payload_crc32c;  // meaningful only when the commit word has kChecksummedFlag
  std::uint16_t producer_slot;
  std::uint16_t generation;  // frame_generation() of the session that wrote it; 0 in 2.0 frames
};
static_assert(std::is_trivially_copyable_v<RecordHeader>);
static_assert(sizeof(RecordHeader) == 40);
static_assert(sizeof(RecordHeader) % kFrameAlignment == 0);
static_assert(offsetof(RecordHeader, position) == 8);
static_assert(offsetof(RecordHeader, timestamp_ns) == 16);
static_assert(offsetof(RecordHeader, payload_crc32c) == 32);
static_assert(offsetof(RecordHeader, generation) == 38);

inline constexpr std::uint64_t kRecordHeaderBytes = sizeof(RecordHeader);

// A record inside a group frame (see above).
struct GroupEntryHeader {
  std::uint16_t payload_length;
  std::uint16_t group_offset_words;  // (entry position - group position) / 8
  std::uint32_t payload_crc32c;      // meaningful only when the commit word has kChecksummedFlag
};
static_assert(std::is_trivially_copyable_v<GroupEntryHeader>);
static_assert(sizeof(GroupEntryHeader) == 8);
static_assert(offsetof(GroupEntryHeader, group_offset_words) == 2);
static_assert(offsetof(GroupEntryHeader, payload_crc32c) == 4);

inline constexpr std::uint64_t kGroupEntryHeaderBytes = sizeof(GroupEntryHeader);
// The largest payload of a record in a group, and the furthest an entry may lie from its group's
// header: what the entry's 16-bit fields can say.
inline constexpr std::uint64_t kMostGroupEntryPayloadBytes = 0xFFFF;
inline constexpr std::uint64_t kMostGroupEntryOffset = 0xFFFF * kFrameAlignment;

// The largest record a ring may be created for (FileIdentity::max_record_bytes). Frame lengths,
// padding included, are 32-bit; a claim spans at most two maximum-size frames (padding to the
// lap's end, then the frame), which this keeps well below 2^32.
inline constexpr std::uint64_t kMostRecordBytes = std::uint64_t{1} << 30;

inline constexpr std::uint64_t kMinPaddingBytes = kFrameAlignment;
inline constexpr std::uint32_t kLapTagMask = 0xFFFFFF;

// The 24-bit tag of the lap a position falls in. Multiplying by an odd constant is a bijection
// modulo 2^24, so consecutive laps never share a tag; the salt makes a forged tag in user payload
// of an earlier lap unlikely to match.
constexpr std::uint32_t lap_tag_of_lap(std::uint64_t lap, std::uint32_t salt) noexcept {
  return (static_cast<std::uint32_t>(lap) * 0x9E3779B1u ^ salt) & kLapTagMask;
}

constexpr std::uint32_t lap_tag(std::uint64_t position, std::uint64_t capacity,
                                std::uint32_t salt) noexcept {
  return lap_tag_of_lap(position / capacity, salt);
}

// The commit word as one little-endian 64-bit value:
// frame_length | (type | flags) << 32 | tag << 40. `flags` is 0 or kChecksummedFlag.
constexpr std::uint64_t make_commit_word(std::uint32_t frame_length, FrameType type, std::uint32_t tag,
                                         std::uint8_t flags = 0) noexcept {
  const auto type_byte = static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) | flags);
  return std::uint64_t{frame_length} | std::uint64_t{type_byte} << 32 | std::uint64_t{tag & kLapTagMask} << 40;
}
constexpr std::uint32_t commit_word_length(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word);
}
// The frame type, without the flag.
constexpr std::uint8_t commit_word_type(std::uint64_t word) noexcept {
  return static_cast<std::uint8_t>(word >> 32) & kFrameTypeMask;
}
constexpr bool commit_word_checksummed(std::uint64_t word) noexcept {
  return (static_cast<std::uint8_t>(word >> 32) & kChecksummedFlag) != 0;
}
constexpr std::uint32_t commit_word_tag(std::uint64_t word) noexcept {
  return static_cast<std::uint32_t>(word >> 40);
}
static_assert(commit_word_length(make_commit_word(48, FrameType::data, 0xABCDEF)) == 48);
static_assert(commit_word_type(make_commit_word(48, FrameType::padding, 7)) == 2);
static_assert(commit_word_tag(make_commit_word(48, FrameType::data, 0xABCDEF)) == 0xABCDEF);
static_assert(commit_word_type(make_commit_word(48, FrameType::data, 7, kChecksummedFlag)) == 1);
static_assert(commit_word_checksummed(make_commit_word(48, FrameType::data, 7, kChecksummedFlag)));
static_assert(!commit_word_checksummed(make_commit_word(48, FrameType::data, 7)));
static_assert(commit_word_tag(make_commit_word(48, FrameType::data, kLapTagMask, kChecksummedFlag)) == kLapTagMask);
static_assert(lap_tag(0, 4096, 0) != lap_tag(4096, 4096, 0));

// Bytes a frame occupies in the data area.
constexpr std::uint64_t frame_stride(std::uint64_t frame_length) noexcept {
  return align_up(frame_length, kFrameAlignment);
}

// Any padding a producer or consumer writes (at most a claim: two of the largest frames) fits
// the commit word's 32-bit length.
static_assert(2 * frame_stride(kRecordHeaderBytes + kMostRecordBytes) <= 0xFFFFFFFFu);

}  // namespace ringfile::format
