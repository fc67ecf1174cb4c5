#include "frames.hpp"

#include <array>

#include "atomics.hpp"
#include "slot_tables.hpp"

namespace ringfile::detail {

using format::FrameType;
using format::kRecordHeaderBytes;

std::uint64_t prepare_padding(std::byte* frame, std::uint64_t position, std::uint64_t length,
                              const Geometry& geometry) noexcept {
  if (length >= 16) {
    // Relaxed: published by the seq_cst CAS of the commit word that follows. The same value a
    // late producer would write: a benign race.
    atomic_field(header_of(frame).position).store(position, std::memory_order_relaxed);
  }
  return format::make_commit_word(static_cast<std::uint32_t>(length), FrameType::padding, geometry.tag_of(position));
}

bool pad_over(std::byte* frame, std::uint64_t position, std::uint64_t length,
              std::uint64_t expected_word, const Geometry& geometry) noexcept {
  const std::uint64_t padding = prepare_padding(frame, position, length, geometry);
  // seq_cst: publishes the position field (release) and orders against the data waiter count.
  return atomic_field(commit_word_of(frame))
      .compare_exchange_strong(expected_word, padding, std::memory_order_seq_cst);
}

bool abort_claimed_frame(std::byte* frame, std::uint64_t position, std::uint64_t length,
                         const Geometry& geometry) noexcept {
  return commit_claimed_frame(frame, prepare_padding(frame, position, length, geometry));
}

bool commit_claimed_frame(std::byte* frame, std::uint64_t word) noexcept {
  auto commit_word = atomic_field(commit_word_of(frame));
  // A first guess at what is there: zeros, as in a new file or a prepared range. A failed CAS
  // returns what is there and leaves the line ours, so a wrong guess costs a second CAS in this
  // core's cache, not another transfer.
  std::uint64_t found = 0;
  // seq_cst: release publishes header and payload to consumers' acquire load of the commit
  // word; the total order with the data-waiter count (wakeups.hpp) is the Dekker pairing with a
  // consumer that registers as a sleeper and then re-checks this word.
  while (!commit_word.compare_exchange_strong(found, word, std::memory_order_seq_cst)) {
    // Nobody but a consumer padding the claim over writes this word while the claim is open,
    // and it writes padding of this lap (pad_over): anything else is an earlier lap's bytes, as
    // long as the ring has not gone a lap past the claim since, which the producer checks first
    // (ProducerCore::claim_overtaken).
    // (Payload of an earlier lap that reads as this lap's padding, against a salted 24-bit tag,
    // reads as padding to consumers as well.)
    if (format::commit_word_type(found) == static_cast<std::uint8_t>(FrameType::padding) &&
        format::commit_word_tag(found) == format::commit_word_tag(word)) {
      return false;
    }
  }
  return true;
}

void write_padding(std::byte* frame, std::uint64_t position, std::uint64_t length,
                   const Geometry& geometry) noexcept {
  // Relaxed: only the value the CAS in pad_over expects; that seq_cst CAS does the ordering.
  std::uint64_t expected = atomic_field(commit_word_of(frame)).load(std::memory_order_relaxed);
  // Only a consumer padding over a claim it believes stuck can race here, and it writes the same
  // padding, so a failed CAS leaves the right frame in place.
  pad_over(frame, position, length, expected, geometry);
}

namespace {

// Padding needs this many bytes (its commit word and the position field) to name its position.
constexpr std::uint64_t kPaddingBytesNamingPosition = 16;

// A frame at `position` that looks valid, including the position field for frames long enough
// to have one. Reads through `view`, which may slide.
bool plausible_frame(DataView& view, std::uint64_t position, const Geometry& geometry,
                     std::uint64_t* stride) noexcept {
  const std::uint64_t offset = geometry.offset_of(position);
  std::byte* frame = view.at(offset, header_bytes_at(position, geometry));
  if (frame == nullptr) return false;
  const FrameRead read = read_frame(frame, position, geometry);
  if (read.kind != FrameKind::data && read.kind != FrameKind::padding) return false;
  if (read.kind == FrameKind::padding) {
    if (read.stride < kPaddingBytesNamingPosition) return false;  // not evidence
    // Relaxed: ordered by read_frame's acquire load of the commit word just before.
    const std::uint64_t recorded =
        atomic_field(header_of(frame).position).load(std::memory_order_relaxed);
    if (recorded != position) return false;
  }
  *stride = read.stride;
  return true;
}

// The producers' open claims, read once for a search that tests many positions against them (a
// slot costs up to read_claim's attempts to read, where it was forged mid-write). Read after the
// head the search stops at was loaded: a claim opened since starts at or past that head, where
// nothing is tested; one closed since only makes a test more careful (a candidate it covers is
// passed over, a frame it started at was one).
class OpenClaims {
 public:
  // Claims no producer can have made (longer than a frame of the largest record after padding to
  // a lap's end, or off the grid) are damaged or forged entries: none is taken (found by a
  // tester: an end at 2^34 in a free slot made searches pass over every frame after it).
  OpenClaims(const format::ProducerSlot* producers, const Geometry& geometry) noexcept {
    if (producers == nullptr) return;
    for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
      const OpenClaim claim = read_claim(producers[index]);
      if (claim.open() && claim.plausible(geometry)) claims_[count_++] = claim;
    }
  }

  bool starts_at(std::uint64_t position) const noexcept {
    return any([&](const OpenClaim& claim) { return claim.start == position; });
  }

  // Covered by an open claim that does not start there. A group of records
  // (Producer::write_batch) commits its first frame last: the frames after it may read
  // committed while the group can still be padded over, whole, from its first frame.
  bool inside(std::uint64_t position) const noexcept {
    return any([&](const OpenClaim& claim) { return claim.start < position && position < claim.end; });
  }

 private:
  template <typename Test>
  bool any(Test test) const noexcept {
    for (std::uint32_t index = 0; index < count_; ++index) {
      if (test(claims_[index])) return true;
    }
    return false;
  }

  std::array<OpenClaim, format::kProducerSlotCount> claims_{};
  std::uint32_t count_ = 0;
};

// A padding frame too short to name its position (which plausible_frame does not count), that
// ends where there is evidence of the next frame: the lap's end, the head, a plausible frame or
// an open claim. A lap's last record is followed by such padding when the next record did not
// fit in the 8 bytes left (and so is a claim whose unused tail was 8 bytes): without this,
// find_boundary took such a record for bytes inside a frame, and a search for it found the
// record after it.
bool short_padding_before_evidence(DataView& view, std::uint64_t position, std::uint64_t head,
                                   const Geometry& geometry, const OpenClaims& claims) noexcept {
  std::byte* frame = view.at(geometry.offset_of(position), header_bytes_at(position, geometry));
  if (frame == nullptr) return false;
  const FrameRead read = read_frame(frame, position, geometry);
  if (read.kind != FrameKind::padding || read.stride >= kPaddingBytesNamingPosition) return false;
  const std::uint64_t end = position + read.stride;
  std::uint64_t ignored = 0;
  return end >= head || geometry.offset_of(end) == 0 || plausible_frame(view, end, geometry, &ignored) ||
         claims.starts_at(end);
}

}  // namespace

std::optional<std::uint64_t> find_boundary(DataView& view, std::uint64_t from, std::uint64_t head,
                                           const Geometry& geometry, const format::ProducerSlot* producers) noexcept {
  std::uint64_t position = format::align_up(from, format::kFrameAlignment);
  // A frame is at most max_frame_stride long, so a boundary lies within that distance of any
  // point; scan a little further to tolerate frames that fail the plausibility test.
  const std::uint64_t scan_end = position + 2 * geometry.max_frame_stride;
  const OpenClaims claims(producers, geometry);
  for (; position < head && position < scan_end; position += format::kFrameAlignment) {
    if (geometry.offset_of(position) == 0) return position;
    std::uint64_t stride = 0;
    if (!plausible_frame(view, position, geometry, &stride) || claims.inside(position)) continue;
    const std::uint64_t next = position + stride;
    std::uint64_t next_stride = 0;
    // An uncommitted successor may be an open claim; if its producer commits and claims again
    // between the two looks, the frame reads committed on the look after.
    if (next >= head || geometry.offset_of(next) == 0 || plausible_frame(view, next, geometry, &next_stride) ||
        claims.starts_at(next) || (producers != nullptr && plausible_frame(view, next, geometry, &next_stride)) ||
        short_padding_before_evidence(view, next, head, geometry, claims)) {
      return position;
    }
  }
  if (position >= head) return head;
  return std::nullopt;
}

std::optional<GroupPlace> locate_group_entry(DataView& view, std::uint64_t position, const Geometry& geometry) noexcept {
  const std::uint64_t offset_in_lap = geometry.offset_of(position);
  if (position % format::kFrameAlignment != 0 || geometry.capacity - offset_in_lap < format::kGroupEntryHeaderBytes) {
    return std::nullopt;
  }
  const std::byte* bytes = view.at(offset_in_lap, format::kGroupEntryHeaderBytes);
  if (bytes == nullptr) return std::nullopt;
  format::GroupEntryHeader entry;
  std::memcpy(&entry, bytes, sizeof entry);
  const std::uint64_t offset = std::uint64_t{entry.group_offset_words} * format::kFrameAlignment;
  // A frame never crosses the end of the data area: its group starts in the same lap.
  if (offset < format::kRecordHeaderBytes || offset > offset_in_lap) return std::nullopt;
  const std::uint64_t start = position - offset;
  std::byte* frame = view.at(geometry.offset_of(start), header_bytes_at(start, geometry));
  if (frame == nullptr) return std::nullopt;
  const FrameRead read = read_frame(frame, start, geometry);
  if (read.kind != FrameKind::data || !read.group || offset >= read.frame_length) return std::nullopt;
  frame = view.at(geometry.offset_of(start), read.stride);
  if (frame == nullptr) return std::nullopt;
  // The entry names the group; the group's own entries say whether one starts there.
  GroupPlace place{start, read, 0};
  std::uint64_t at = format::kRecordHeaderBytes;
  while (at < offset) {
    const GroupEntry passed = read_group_entry(frame, read.frame_length, at);
    if (passed.problem != nullptr) return std::nullopt;
    at = passed.next_offset;
    place.index += 1;
  }
  if (at != offset) return std::nullopt;
  return place;
}

}  // namespace ringfile::detail
