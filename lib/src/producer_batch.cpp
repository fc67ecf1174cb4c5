// Several small records under one reservation (Producer::write_batch): what a record costs the
// producer beyond its own bytes - the head's compare-and-swap, the claim's publication in the
// producer slot, the timestamp, the look for sleeping consumers - paid once per group. In a file
// of format version 3 a group is one frame: one header and an 8-byte entry a record, instead of a
// 40-byte header each (at 64 bytes a record, 72 bytes instead of 104, and a consumer that checks
// one frame a group).
#include <algorithm>
#include <cstring>

#include "atomics.hpp"
#include "clock.hpp"
#include "frames.hpp"
#include "producer_core.hpp"

namespace ringfile::detail {

using format::kGroupEntryHeaderBytes;
using format::kRecordHeaderBytes;

// Every entry of the largest group can name its offset from the group's header.
static_assert(kRecordHeaderBytes + (Producer::kMostBatchRecords - 1) *
                                       (kGroupEntryHeaderBytes + Producer::kBatchRecordBytes) <=
              format::kMostGroupEntryOffset);
static_assert(Producer::kBatchRecordBytes <= format::kMostGroupEntryPayloadBytes);

namespace {

// The bytes a record takes in a group: in a group frame, its entry; else a frame of its own.
std::uint64_t bytes_in_group(std::size_t payload_bytes, bool group_frame) noexcept {
  return group_frame ? kGroupEntryHeaderBytes + format::frame_stride(payload_bytes)
                     : format::frame_stride(kRecordHeaderBytes + payload_bytes);
}

}  // namespace

BatchResult ProducerCore::write_batch(std::span<const std::span<const std::byte>> payloads,
                                      std::chrono::nanoseconds timeout) noexcept {
  if (const ClaimStatus refused = refuse_claim(0); refused != ClaimStatus::ok) return {refused, 0};
  const bool forever = timeout == std::chrono::nanoseconds::max();
  // The clock only when there is a deadline to keep.
  const std::uint64_t deadline = forever ? 0 : monotonic_ns() + static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 0));
  const auto time_left = [&]() -> std::chrono::nanoseconds {
    if (forever) return timeout;
    const std::uint64_t now = monotonic_ns();
    return std::chrono::nanoseconds(now < deadline ? deadline - now : 0);
  };
  BatchResult result;
  while (result.records < payloads.size()) {
    const std::span<const std::span<const std::byte>> rest = payloads.subspan(result.records);
    std::uint64_t stride = 0;
    const std::size_t group = batch_group(rest, &stride);
    if (group < 2) {
      result.status = write(rest.front(), time_left());
      if (result.status != ClaimStatus::ok) return result;
      result.records += 1;
      continue;
    }
    const ClaimStatus claimed = claim_frames(stride, stride - kRecordHeaderBytes, time_left(), Filler::group);
    if (claimed != ClaimStatus::ok) {
      result.status = claimed;
      return result;
    }
    const std::size_t committed = commit_group(rest.first(group));
    result.records += committed;
    if (committed < group) {
      result.status = ClaimStatus::claim_lost;
      return result;
    }
  }
  return result;
}

std::size_t ProducerCore::batch_group(std::span<const std::span<const std::byte>> payloads,
                                      std::uint64_t* stride) const noexcept {
  // A claim spans at most one maximum-size frame: a consumer that pads a dead producer's claim
  // over writes one padding frame over all of it, and readers searching for a record boundary
  // expect one within that distance (find_boundary). That includes the padding to the next
  // cache line (reserve), up to a line less 8 bytes wherever the group starts.
  constexpr std::uint64_t kMostLinePadding = format::kCacheLineBytes - format::kFrameAlignment;
  const bool group_frame = file_.takes_group_frames();
  std::size_t count = 0;
  std::uint64_t bytes = group_frame ? kRecordHeaderBytes : 0;
  for (const std::span<const std::byte> payload : payloads) {
    if (count == Producer::kMostBatchRecords || payload.size() > Producer::kBatchRecordBytes ||
        payload.size() > geometry_.max_record_bytes) {
      break;
    }
    const std::uint64_t next = bytes + bytes_in_group(payload.size(), group_frame);
    if (next + kMostLinePadding > (group_frame ? geometry_.group_span : geometry_.max_frame_stride)) break;
    bytes = next;
    count += 1;
  }
  *stride = bytes;
  return count;
}

std::size_t ProducerCore::commit_group(std::span<const std::span<const std::byte>> payloads) noexcept {
  // One compare-and-swap commits the group (see fill_group_of_frames for a group of frames). Each
  // CAS drains the store buffer and waits for the frame's line to come back from a consumer
  // spinning on it; one per group instead of one per record lets the copies overlap.
  // A stall since the reservation long enough for the ring, or the preparation, to lap the group
  // (claim_overtaken): nothing goes into newer records or invalidated pages then. Two loads a
  // group, before anything is written, and again after the copies (below).
  if (claim_overtaken()) {
    close_overtaken_claim();
    return 0;
  }
  note_fill_in_place();
  // Relaxed: only this producer writes its next sequence.
  const std::uint64_t first_sequence = atomic_field(slot_->next_sequence).load(std::memory_order_relaxed);
  std::uint64_t payload_bytes = 0;
  const bool group_frame = file_.takes_group_frames();
  // The records first; in a group frame, its header and the padding after it wait for the check
  // below, so that a stalled producer writes no frame's words into newer records.
  GroupEntries entries;
  std::uint64_t first_word = 0;
  if (group_frame) {
    entries = copy_group_entries(payloads, &payload_bytes);
  } else {
    first_word = fill_group_of_frames(payloads, first_sequence, &payload_bytes);
  }
  // A stall in the middle of the copies (the likeliest place for one: they are most of a group's
  // time) is caught here, before the commit could land on the next lap's zeroed pages or records
  // and count records nobody reads as written (found by a tester: a producer SIGSTOPped for
  // longer than the unblock timeout lost a group silently).
  if (claim_overtaken()) {
    close_overtaken_claim();
    return 0;
  }
  if (group_frame) {
    pad_group_to_claim_end(entries.end_offset);
    // One timestamp for the group, the reservation's: its records are written together, now.
    first_word = fill_frame_header(claim_frame_, claim_position_, entries.frame_length, 0, first_sequence,
                                   claim_time_ns_, format::FrameType::group);
  }
  // The group's commit; the release stores of fill_group_of_frames and pad_group_to_claim_end
  // come before it.
  const bool won = commit_claimed_frame(claim_frame_, first_word);
  if (won) advance_sequence(first_sequence, payloads.size());
  close_claim(claim_position_ + claim_stride_);
  if (!won) return 0;
  note_committed(payloads.size(), payload_bytes);
  return payloads.size();
}

ProducerCore::GroupEntries ProducerCore::copy_group_entries(std::span<const std::span<const std::byte>> payloads,
                                                            std::uint64_t* payload_bytes) noexcept {
  GroupEntries entries{kRecordHeaderBytes, 0};
  for (const std::span<const std::byte> payload : payloads) {
    std::byte* entry = claim_frame_ + entries.end_offset;
    format::GroupEntryHeader header;
    header.payload_length = static_cast<std::uint16_t>(payload.size());
    header.group_offset_words = static_cast<std::uint16_t>(entries.end_offset / format::kFrameAlignment);
    header.payload_crc32c = copy_into_frame(entry + kGroupEntryHeaderBytes, payload);
    std::memcpy(entry, &header, sizeof header);
    *payload_bytes += payload.size();
    entries.frame_length = entries.end_offset + kGroupEntryHeaderBytes + payload.size();
    entries.end_offset += bytes_in_group(payload.size(), true);
  }
  return entries;
}

std::uint64_t ProducerCore::fill_group_of_frames(std::span<const std::span<const std::byte>> payloads,
                                                 std::uint64_t first_sequence, std::uint64_t* payload_bytes) noexcept {
  // The group is committed back to front in effect: every frame but the first with a plain
  // release store of its commit word, then the first with the CAS that commits one record (the
  // caller's). A consumer reads frames in order, so it reaches none of the group before that
  // CAS, and the group becomes readable at once, all of it or none: a consumer that pads the
  // claim over (after the unblock timeout) pads from the first frame, which makes our CAS fail
  // and the whole group lost; nobody has read any of it.
  std::uint64_t first_word = 0;
  std::uint64_t offset = 0;
  for (std::size_t index = 0; index < payloads.size(); ++index) {
    const std::span<const std::byte> payload = payloads[index];
    std::byte* frame = claim_frame_ + offset;
    const std::uint32_t payload_crc = copy_into_frame(frame + kRecordHeaderBytes, payload);
    // One timestamp for the group, the reservation's: its records are written together, now.
    const std::uint64_t word = fill_frame_header(frame, claim_position_ + offset, kRecordHeaderBytes + payload.size(),
                                                 payload_crc, first_sequence + index, claim_time_ns_);
    if (index == 0) {
      first_word = word;
    } else {
      // Release: pairs with a consumer's acquire load of this word (read_frame), which it makes
      // only after the acquire load that found the first frame committed (the CAS below).
      atomic_field(commit_word_of(frame)).store(word, std::memory_order_release);
    }
    *payload_bytes += payload.size();
    offset += bytes_in_group(payload.size(), false);
  }
  pad_group_to_claim_end(offset);
  return first_word;
}

void ProducerCore::pad_group_to_claim_end(std::uint64_t offset) noexcept {
  // The claim runs on to a cache line boundary where it could (reserve): padding to there.
  if (offset >= claim_stride_) return;
  std::byte* padding = claim_frame_ + offset;
  const std::uint64_t word = prepare_padding(padding, claim_position_ + offset, claim_stride_ - offset, geometry_);
  // Release: pairs with a consumer's acquire load of this word (read_frame), which it makes only
  // after the acquire load that found the group committed (the caller's CAS).
  atomic_field(commit_word_of(padding)).store(word, std::memory_order_release);
}

}  // namespace ringfile::detail
