// Reading, padding and finding record frames in the data area.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "data_view.hpp"
#include "ring_file.hpp"
#include "ringfile/format/record_header.hpp"

namespace ringfile::detail {

enum class FrameKind { uncommitted, data, padding, corrupt };

struct FrameRead {
  FrameKind kind = FrameKind::uncommitted;
  std::uint64_t commit_word = 0;  // as loaded; the CAS expectation when padding over
  std::uint64_t stride = 0;       // bytes to the next frame (data, padding)
  std::uint32_t frame_length = 0;
  bool checksummed = false;       // data: payload_crc32c holds the payload's CRC32C
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
// @pre frame points at header_bytes_at(position) mapped bytes
FrameRead read_frame(std::byte* frame, std::uint64_t position, const Geometry& geometry) noexcept;

// Turns the uncommitted frame at `position` into padding of `length` bytes, if its commit word
// still equals `expected_word`. @pre length is a multiple of 8 and stays inside the lap.
bool pad_over(std::byte* frame, std::uint64_t position, std::uint64_t length,
              std::uint64_t expected_word, const Geometry& geometry) noexcept;

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
