// The public Ring handle: create/open, and read-only inspection for status tools.
#include "ringfile/ring.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_names.hpp"
#include "frames.hpp"
#include "paging.hpp"
#include "process_identity.hpp"
#include "ring_file.hpp"
#include "ringfile/system/page_cache.hpp"
#include "slot_life_cycle.hpp"
#include "slot_tables.hpp"

namespace ringfile {

using detail::atomic_field;
using detail::load_field;

Ring Ring::create(const std::filesystem::path& path, const CreateOptions& create_options,
                  const OpenOptions& open_options) {
  return Ring(detail::RingFile::create(path, create_options, open_options));
}

Ring Ring::open(const std::filesystem::path& path, const OpenOptions& open_options) {
  return Ring(detail::RingFile::open(path, open_options));
}

const RingInfo& Ring::info() const noexcept { return file_->info(); }

bool Ring::path_names_this_file() const noexcept { return file_->path_names_this_file(); }

bool Ring::is_open_as(int fd) const noexcept { return file_->is_open_as(fd); }

std::uint64_t Ring::head_position() const noexcept {
  // Acquire: pairs with the producers' head CAS.
  return load_field(file_->header().head_position.value, std::memory_order_acquire);
}

std::uint64_t Ring::records_written() const noexcept {
  std::uint64_t records = 0;
  for (const auto& slot : file_->header().producers) {
    // Relaxed: a figure for display; each slot's count only grows.
    records += load_field(slot.next_sequence, std::memory_order_relaxed);
  }
  return records;
}

std::vector<ConsumerInfo> Ring::consumers() const {
  std::vector<ConsumerInfo> result;
  const auto& header = file_->header();
  const std::uint64_t now = detail::realtime_ns();
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    const auto& slot = header.consumers[index];
    const format::ConsumerState state = detail::state_of(slot);
    if (state == format::ConsumerState::free) continue;
    ConsumerInfo info;
    info.slot = index;
    char name[format::kConsumerNameBytes];
    std::memcpy(name, slot.name, sizeof name);
    name[sizeof name - 1] = '\0';
    info.name = detail::printable_consumer_name(name);
    // Acquire: pairs with the release store of state (above) and the following flag's fetch_or.
    const std::uint32_t flags = load_field(slot.flags, std::memory_order_acquire);
    // Relaxed here and below: figures for a snapshot, published with the slot's state (above).
    info.pid = load_field(slot.owner_pid, std::memory_order_relaxed);
    info.detached = state == format::ConsumerState::detached;
    info.alive = !info.detached && detail::is_alive(detail::owner_of(slot));
    const bool can_hold = !info.detached && file_->policy() == WriterPolicy::block;
    // Detached: it holds for the grace period from its detach only (detached_and_holding).
    info.holds_back = info.detached ? detail::detached_and_holding(*file_, slot, now)
                                    : can_hold && detail::holds_back(flags);
    // Producers mark a dead one expired; a detached one is past its grace by the clock.
    info.expired = (flags & format::kConsumerExpired) != 0 ||
                   (info.detached && file_->policy() == WriterPolicy::block && detail::holds_back(flags) &&
                    !info.holds_back);
    // Acquire: pairs with the consumer's seq_cst cursor store.
    info.cursor = load_field(slot.cursor, std::memory_order_acquire);
    // A detached follower within its grace holds producers within the hold window, as attached.
    info.following = (can_hold || info.holds_back) && detail::is_following(flags);
    info.replaying = !info.detached && file_->info().paging != PagingStrategy::none &&
                     info.cursor < load_field(header.released_position.value, std::memory_order_acquire);
    info.heartbeat_ns = load_field(slot.heartbeat_ns, std::memory_order_relaxed);
    info.consumed_records = load_field(slot.consumed_records, std::memory_order_relaxed);
    info.lost_bytes = load_field(slot.lost_bytes, std::memory_order_relaxed);
    info.lost_records = load_field(slot.lost_records, std::memory_order_relaxed);
    info.expire_after = std::chrono::milliseconds(load_field(slot.expire_after_ms, std::memory_order_relaxed));
    info.past_expiry = detail::past_expiry(*file_, slot, now);
    result.push_back(std::move(info));
  }
  return result;
}

std::vector<ProducerInfo> Ring::producers() const {
  std::vector<ProducerInfo> result;
  const auto& header = file_->header();
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    const auto& slot = header.producers[index];
    // Acquire: pairs with the release store of state that publishes a producer's slot.
    if (load_field(slot.state, std::memory_order_acquire) !=
        static_cast<std::uint32_t>(format::ProducerState::active)) {
      continue;
    }
    ProducerInfo info;
    info.slot = index;
    // Acquire: pairs with the release store of a new owner's pid, made after it reset the counts.
    info.pid = load_field(slot.owner_pid, std::memory_order_acquire);
    info.alive = detail::is_alive(detail::owner_of(slot));
    info.committed_records = load_field(slot.committed_records, std::memory_order_relaxed);
    info.committed_bytes = load_field(slot.committed_bytes, std::memory_order_relaxed);
    const detail::OpenClaim claim = detail::read_claim(slot);
    info.open_claim_start = claim.start;
    info.open_claim_end = claim.end;
    info.open_claim_time_ns = claim.open() ? claim.time_ns : 0;
    // Relaxed: reports the owner keeps for status (see format::make_wait_state).
    const std::uint64_t wait = load_field(slot.wait_state, std::memory_order_relaxed);
    if (wait != 0) {
      info.waiting_since_ns = format::wait_state_since_us(wait) * 1000;
      const std::uint64_t cause = format::wait_state_cause(wait);
      if (cause >= format::kWaitForConsumer && cause < format::kWaitForConsumer + format::kConsumerSlotCount) {
        info.waiting_for_consumer = static_cast<std::uint32_t>(cause - format::kWaitForConsumer);
      }
      info.waiting_for_open_claim = cause == format::kWaitForOpenClaim;
      info.waiting_for_preparation = cause == format::kWaitForPreparation;
    }
    info.waited_ns = load_field(slot.waited_ns, std::memory_order_relaxed);  // relaxed, as wait_state
    result.push_back(info);
  }
  return result;
}

namespace {

// pread of `bytes` at data-area `offset`, all of them or false.
bool read_data(const detail::RingFile& file, std::uint64_t offset, void* into, std::size_t bytes) {
  const auto at = static_cast<off_t>(file.info().data_offset + offset);
  return ::pread(file.fd(), into, bytes, at) == static_cast<ssize_t>(bytes);
}

}  // namespace

std::optional<RecordMeta> Ring::record_at(std::uint64_t position) const {
  const detail::Geometry& geometry = file_->geometry();
  if (position % format::kFrameAlignment != 0) return std::nullopt;
  // pread, not a view: a status tool asks for a few headers and should not map 64 MiB for each.
  const std::uint64_t offset = geometry.offset_of(position);
  if (geometry.capacity - offset >= format::kRecordHeaderBytes) {
    format::RecordHeader header{};
    if (!read_data(*file_, offset, &header, sizeof header)) return std::nullopt;
    const detail::FrameRead read = detail::read_frame(reinterpret_cast<std::byte*>(&header), position, geometry);
    if (read.kind == detail::FrameKind::data && !read.group) {
      return RecordMeta{position, header.timestamp_ns,
                        static_cast<std::uint32_t>(read.frame_length - format::kRecordHeaderBytes)};
    }
    if (read.kind == detail::FrameKind::data) {
      // A group's start stands before its first record.
      format::GroupEntryHeader first{};
      if (!read_data(*file_, offset + format::kRecordHeaderBytes, &first, sizeof first)) return std::nullopt;
      if (first.payload_length > read.frame_length - format::kRecordHeaderBytes - format::kGroupEntryHeaderBytes) {
        return std::nullopt;
      }
      return RecordMeta{position, header.timestamp_ns, first.payload_length};
    }
  }
  // A record inside a group: its entry leads back to the group's header. A figure for display
  // (a consumer's lag), so the entry is checked against the group's bounds, not walked to.
  if (geometry.capacity - offset < format::kGroupEntryHeaderBytes) return std::nullopt;
  format::GroupEntryHeader entry{};
  if (!read_data(*file_, offset, &entry, sizeof entry)) return std::nullopt;
  const std::uint64_t in_group = std::uint64_t{entry.group_offset_words} * format::kFrameAlignment;
  if (in_group < format::kRecordHeaderBytes || in_group > offset) return std::nullopt;
  const std::uint64_t start = position - in_group;
  format::RecordHeader header{};
  if (!read_data(*file_, offset - in_group, &header, sizeof header)) return std::nullopt;
  const detail::FrameRead read = detail::read_frame(reinterpret_cast<std::byte*>(&header), start, geometry);
  if (read.kind != detail::FrameKind::data || !read.group ||
      in_group + format::kGroupEntryHeaderBytes + entry.payload_length > read.frame_length) {
    return std::nullopt;
  }
  return RecordMeta{position, header.timestamp_ns, entry.payload_length};
}

std::optional<RecordMeta> Ring::first_record_from(std::uint64_t position) const {
  // Padding frames come one at a time but for the lap's end: a group's line padding, then
  // the lap's. A few more allow for aborted claims; a file with more in a row is not worth
  // walking for a figure.
  constexpr int kMostPaddingFrames = 8;
  const detail::Geometry& geometry = file_->geometry();
  const std::uint64_t head = head_position();
  for (int padding = 0; padding <= kMostPaddingFrames && position < head; ++padding) {
    if (auto record = record_at(position)) return record;
    if (position % format::kFrameAlignment != 0) return std::nullopt;
    const std::uint64_t offset = geometry.offset_of(position);
    // Zeros past the data area's end: a padding frame there is 8 bytes, its commit word alone.
    format::RecordHeader header{};
    const auto bytes = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof header, geometry.capacity - offset));
    if (!read_data(*file_, offset, &header, bytes)) return std::nullopt;
    const detail::FrameRead read = detail::read_frame(reinterpret_cast<std::byte*>(&header), position, geometry);
    if (read.kind != detail::FrameKind::padding) return std::nullopt;
    position += read.stride;
  }
  return std::nullopt;
}

PagingState Ring::paging_state() const noexcept {
  const auto& header = file_->header();
  const auto& line = header.paging_budget;
  PagingState state;
  // Relaxed: advisory figures, each published on its own (paging_sizes.cpp, publish_budget).
  state.resident_budget_bytes = load_field(line.resident_budget_bytes, std::memory_order_relaxed);
  state.hold_window_bytes = detail::hold_window_in_force(*file_);
  state.memory_bytes = load_field(line.memory_bytes, std::memory_order_relaxed);
  state.rings_sharing = load_field(line.rings_sharing, std::memory_order_relaxed);
  state.whole_rings_bytes = load_field(line.whole_rings_bytes, std::memory_order_relaxed);
  // Acquire: pair with the paging engine's frontier stores; figures for a snapshot.
  state.prepared_position = load_field(header.prepared_position.value, std::memory_order_acquire);
  state.released_position = load_field(header.released_position.value, std::memory_order_acquire);
  return state;
}

Ring::Residency Ring::residency() const {
  Residency residency;
  // Older kernels (mincore) are asked one view at a time, as the ring is mapped anyway.
  const auto measured = system::file_residency(file_->fd(), file_->view_bytes());
  if (!measured) return residency;
  residency.resident_bytes = measured->resident_bytes;
  if (measured->dirty_bytes) residency.dirty_bytes = *measured->dirty_bytes + measured->writeback_bytes.value_or(0);
  return residency;
}

}  // namespace ringfile
