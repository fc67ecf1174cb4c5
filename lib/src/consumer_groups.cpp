// Reading group frames (format version 3, a write_batch group's records under one header): entering
// a group found by poll or by a start position inside one, and handing out its records. The
// rest of reading is in consumer.cpp.
#include "consumer_core.hpp"
#include "crc32c_in_ring.hpp"

namespace ringfile::detail {

void ConsumerCore::enter_group(std::uint64_t position, const FrameRead& read, const std::byte* frame,
                               std::uint64_t offset, std::uint64_t index) noexcept {
  const format::RecordHeader& header = *reinterpret_cast<const format::RecordHeader*>(frame);
  group_start_ = position;
  group_length_ = read.frame_length;
  group_stride_ = read.stride;
  group_checksummed_ = read.checksummed;
  // Read once for all the group's records. Where producers may overwrite the group meanwhile, each
  // record's read is confirmed afterwards (poll_group), which covers these loads too.
  group_timestamp_ns_ = header.timestamp_ns;
  group_first_sequence_ = header.producer_sequence;
  group_producer_slot_ = header.producer_slot;
  group_index_ = index;
  position_ = position + offset;
}

void ConsumerCore::move_to(std::uint64_t position) noexcept {
  leave_group(position);
  const std::optional<GroupPlace> place = locate_group_entry(view_, position, geometry_);
  if (!place) return;
  const std::byte* frame = view_.at(geometry_.offset_of(place->start), place->read.stride);
  if (frame != nullptr) enter_group(place->start, place->read, frame, position - place->start, place->index);
}

ConsumerCore::GroupRead ConsumerCore::poll_group(Consumer::HandlerFn handler, void* context, std::size_t max_records) {
  const std::byte* frame = view_.at(geometry_.offset_of(group_start_), group_stride_);
  if (frame == nullptr) return {0, PollStatus::ok, false};  // no address space for the view now; try again later
  // The group's records in one loop, the view and the fields they share looked up once: through
  // poll's loop, a record of 64 bytes took 14 ns to read against 9 (one thread, scratch program).
  Record record;
  record.timestamp_ns = group_timestamp_ns_;
  record.producer_slot = group_producer_slot_;
  std::size_t records = 0;
  PollStatus status = PollStatus::ok;
  bool go_on = true;
  while (records < max_records) {
    const std::uint64_t offset = position_ - group_start_;
    const GroupEntry entry = read_group_entry(frame, group_length_, offset);
    if (entry.problem != nullptr) {
      if (may_be_lapped_ && lapped(group_start_)) break;  // torn by an overwrite, not damage
      status = report_damage(position_, entry.problem);
      resume_after_damage_ = group_start_ + group_stride_;
      go_on = false;
      break;
    }
    record.position = position_;
    record.producer_sequence = group_first_sequence_ + group_index_;
    const std::byte* payload = frame + offset + format::kGroupEntryHeaderBytes;
    if (may_be_lapped_) {
      payload = copy_unless_lapped(payload, entry.payload_bytes, group_start_);
      if (payload == nullptr) break;
    }
    record.payload = {payload, entry.payload_bytes};
    const bool last = entry.next_offset == group_length_;
    const std::uint64_t next = last ? group_start_ + group_stride_ : group_start_ + entry.next_offset;
    if (options_.verify_checksums && group_checksummed_ && crc32c_front_to_back(record.payload) != entry.payload_crc) {
      stats_.checksum_failures += 1;
      status = report_damage(position_, kChecksumMismatch);
      resume_after_damage_ = next;  // the entry is sound (its length was checked): only this record is skipped
      go_on = false;
      break;
    }
    count_sequence(record.producer_slot, record.producer_sequence);
    if (!handler(context, record)) {  // left unread: the next poll starts with it
      go_on = false;
      break;
    }
    records += 1;
    stats_.records += 1;
    stats_.bytes += entry.payload_bytes;
    if (last) {
      leave_group(next);
      break;
    }
    position_ = next;
    group_index_ += 1;
    if (!attached_) {  // the handler detached (see poll)
      go_on = false;
      break;
    }
  }
  return {records, status, go_on};
}

}  // namespace ringfile::detail
