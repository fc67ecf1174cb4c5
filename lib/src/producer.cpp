#include "ringfile/producer.hpp"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <limits>
#include <memory>
#include <new>

#include <unistd.h>

#include "atomics.hpp"
#include "clock.hpp"
#include "crc32c_in_ring.hpp"
#include "data_view.hpp"
#include "frames.hpp"
#include "housekeeper.hpp"
#include "paging.hpp"
#include "producer_core.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"
#include "slot_life_cycle.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile {
namespace detail {

using format::FrameType;
using format::kRecordHeaderBytes;

ProducerCore::ProducerCore(const Ring& ring, const ProducerOptions& options)
    : ring_(ring),
      file_(file_of_given(ring)),
      header_(file_.header()),
      geometry_(file_.geometry()),
      options_(options),
      view_(file_, DataView::Access::read_write),
      pager_(file_) {
  if (file_.read_only()) {
    throw Error(ErrorCode::invalid_argument,
                "'" + file_.info().path.string() + "' was opened read-only; producers need write access");
  }
  slot_index_ = acquire_producer_slot(file_);
  slot_ = &header_.producers[slot_index_];
  wait_report_ = WaitReport(*slot_);
  stale_claim_ns_ = static_cast<std::uint64_t>(
                        std::chrono::duration_cast<std::chrono::nanoseconds>(file_.info().unblock_timeout).count()) /
                    2;
  if (pager_.strategy() == PagingStrategy::none) {
    writable_cache_ = kNothingToPrepare;  // no frontier to respect
  }
  if (pager_.strategy() != PagingStrategy::none || options_.sync.mode == SyncPolicy::Mode::interval) {
    housekeeper_ = std::make_unique<Housekeeper>(file_, options_.sync);
  }
  view_.fill_whole_area(options_.pre_touch);
}

ProducerCore::~ProducerCore() {
  housekeeper_.reset();
  if (claim_open_) abort();
  if (stranded_.present) pad_stranded_reservation();  // else consumers pad it, its owner gone
  // A producer asked to sync leaves nothing of its own dirty: the last records since the last
  // sync, and what the engine prepared (zero-filled) ahead of them meanwhile.
  if (options_.sync.mode != SyncPolicy::Mode::none) flush();
  release_producer_slot(file_, slot_index_);
}

bool ProducerCore::flush() noexcept {
  bytes_since_flush_ = 0;
  return ::fdatasync(file_.fd()) == 0;
}

ClaimStatus ProducerCore::refuse_claim(std::size_t payload_bytes) const noexcept {
  // A second claim would leave the first one's buffer in the caller's hands with nobody to
  // commit it: refuse it, loudly where assertions are on.
  assert(!claim_open_ && "commit() or abort() the open claim first");
  if (claim_open_) return ClaimStatus::claim_open;
  if (payload_bytes > geometry_.max_record_bytes) return ClaimStatus::too_large;
  return ClaimStatus::ok;
}

ClaimResult ProducerCore::try_claim(std::size_t payload_bytes, Filler filler) noexcept {
  if (const ClaimStatus refused = refuse_claim(payload_bytes); refused != ClaimStatus::ok) return {refused, {}};
  const ClaimStatus status =
      try_claim_frames(format::frame_stride(kRecordHeaderBytes + payload_bytes), payload_bytes, filler);
  return status == ClaimStatus::ok ? open_claim_result() : ClaimResult{status, {}};
}

ClaimResult ProducerCore::claim(std::size_t payload_bytes, std::chrono::nanoseconds timeout,
                                Filler filler) noexcept {
  const ClaimStatus status = claim_status(payload_bytes, timeout, filler);
  return status == ClaimStatus::ok ? open_claim_result() : ClaimResult{status, {}};
}

ClaimStatus ProducerCore::claim_status(std::size_t payload_bytes, std::chrono::nanoseconds timeout,
                                       Filler filler) noexcept {
  if (const ClaimStatus refused = refuse_claim(payload_bytes); refused != ClaimStatus::ok) return refused;
  return claim_frames(format::frame_stride(kRecordHeaderBytes + payload_bytes), payload_bytes, timeout, filler);
}

ClaimResult ProducerCore::open_claim_result() const noexcept {
  const std::span<std::byte> buffer = claim_fill_ != ClaimFill::in_place
                                          ? std::span<std::byte>{staging_.get(), claim_payload_bytes_}
                                          : std::span<std::byte>{claim_frame_ + kRecordHeaderBytes, claim_payload_bytes_};
  return {ClaimStatus::ok, buffer, claim_position_};
}

ClaimStatus ProducerCore::try_claim_frames(std::uint64_t stride, std::size_t payload_bytes, Filler filler) noexcept {
  // Still no view for it: waiting would not bring one (sleep_for_space waits for consumers and
  // preparation, neither of which maps anything), so the caller learns why (errno, the mapping's).
  if (stranded_.present && !pad_stranded_reservation()) return ClaimStatus::io_error;
  Reservation reservation;
  if (const ClaimStatus reserved = reserve(stride, filler == Filler::group, &reservation);
      reserved != ClaimStatus::ok) {
    return reserved;
  }
  const bool opened = reservation.padding_written &&
                      open_claim(reservation.record_position, reservation.end - reservation.record_position, payload_bytes);
  claim_time_ns_ = reservation.time_ns;
  if (!opened) {
    // No view could be mapped (the kernel refuses a bounded one only when memory or address
    // space is exhausted). The claim stays published until this producer pads the space over at
    // its next claim, so consumers that get there first see whose it is and wait, or pad it
    // themselves after the unblock timeout. A new claim must not replace it before: space below
    // the head that no claim covers and nobody commits is what consumers report as damage.
    // io_error, not would_block: no consumer or preparation can free what the kernel refused, and
    // a caller told to wait for space spun forever (errno is still the mapping's, see reserve).
    stranded_ = {true, reservation.start, reservation.record_position, reservation.end};
    return ClaimStatus::io_error;
  }
  if (filler == Filler::caller) {
    const ClaimFill wanted = payload_bytes >= kFileWriteThreshold ? ClaimFill::staged_write
                             : payload_bytes >= kStagedCopyThreshold && options_.compute_checksums &&
                                       !crc32c_folds_wide()
                                 ? ClaimFill::staged_copy
                                 : ClaimFill::in_place;
    // Without the buffer (no memory for it), the caller fills the claim in place.
    if (wanted != ClaimFill::in_place && staging_buffer(payload_bytes).data() != nullptr) claim_fill_ = wanted;
  }
  return ClaimStatus::ok;
}

ClaimStatus ProducerCore::claim_frames(std::uint64_t stride, std::size_t payload_bytes,
                                       std::chrono::nanoseconds timeout, Filler filler) noexcept {
  const ClaimStatus result = try_claim_frames(stride, payload_bytes, filler);
  if (result != ClaimStatus::would_block) return result;
  return claim_frames_after_waiting(stride, payload_bytes, timeout, filler);
}

ClaimStatus ProducerCore::claim_frames_after_waiting(std::uint64_t stride, std::size_t payload_bytes,
                                                     std::chrono::nanoseconds timeout, Filler filler) noexcept {
  wait_report_.waiting(blocked_by_);
  const std::uint64_t started = monotonic_ns();
  const std::uint64_t deadline = timeout == std::chrono::nanoseconds::max()
                                     ? std::numeric_limits<std::uint64_t>::max()
                                     : started + static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 0));
  std::uint64_t claim_recheck = kFirstClaimRecheckNs;
  for (;;) {
    const std::uint64_t now = monotonic_ns();
    if (now >= deadline) {
      stats_.backpressure_ns += now - started;
      wait_report_.ended(false, stats_.backpressure_ns);
      return ClaimStatus::timed_out;
    }
    if (options_.idle == IdleStrategy::busy_spin ||
        (options_.idle == IdleStrategy::spin_then_sleep && now < started + kSpinBeforeSleepNs)) {
      cpu_relax();
    } else {
      std::uint64_t recheck = kSpaceRecheckNs;
      if (blocked_by_ == format::kWaitForOpenClaim) {
        recheck = claim_recheck;
        claim_recheck = std::min(2 * claim_recheck, kSpaceRecheckNs);
      }
      sleep_for_space(std::min<std::uint64_t>(deadline - now, recheck));
    }
    const ClaimStatus result = try_claim_frames(stride, payload_bytes, filler);
    if (result != ClaimStatus::would_block) {
      stats_.backpressure_ns += monotonic_ns() - started;
      wait_report_.ended(true, stats_.backpressure_ns);
      return result;
    }
    wait_report_.waiting(blocked_by_);
  }
}

ClaimStatus ProducerCore::commit(std::size_t used_bytes) noexcept {
  if (!claim_open_) return ClaimStatus::no_claim;
  if (used_bytes > claim_payload_bytes_) return ClaimStatus::too_large;
  if (claim_fill_ == ClaimFill::staged_write) {
    // Before the payload goes into the file (commit_frame asks again before the header).
    if (claim_may_be_padded(record_clock_.now_ns()) && claim_overtaken()) return close_overtaken_claim();
    const std::span<const std::byte> payload{staging_.get(), used_bytes};
    if (!write_through_file(payload)) {
      abort_failed_write();
      return ClaimStatus::io_error;
    }
    const std::uint64_t timestamp_ns = record_clock_.now_ns();
    return commit_frame(used_bytes, options_.compute_checksums ? crc32c(payload) : 0, timestamp_ns);
  }
  note_fill_in_place();
  // The clock first: reading it takes longer than the instructions around it, which need not
  // wait for it.
  const std::uint64_t timestamp_ns = record_clock_.now_ns();
  if (claim_fill_ == ClaimFill::staged_copy) {
    // Before the copy into the claim (commit_frame asks again before the header).
    if (claim_may_be_padded(timestamp_ns) && claim_overtaken()) return close_overtaken_claim();
    const std::span<const std::byte> payload{staging_.get(), used_bytes};
    return commit_frame(used_bytes, copy_into_frame(claim_frame_ + kRecordHeaderBytes, payload), timestamp_ns);
  }
  const std::uint32_t payload_crc =
      options_.compute_checksums ? crc32c({claim_frame_ + kRecordHeaderBytes, used_bytes}) : 0;
  return commit_frame(used_bytes, payload_crc, timestamp_ns);
}

ClaimStatus ProducerCore::commit_frame(std::size_t used_bytes, std::uint32_t payload_crc,
                                       std::uint64_t timestamp_ns) noexcept {
  // Asked at every commit, after the payload is in: a stall in the middle of the copy (a write()
  // stamps its record with the reservation's reading, so no reading says how long the copy took)
  // or of the checksum is caught here, where the commit would otherwise land on the next lap's
  // zeroed pages or records and return ok for a record nobody reads (found by a tester: a
  // producer SIGSTOPped for longer than the unblock timeout). Two loads: the preparation's line,
  // which moves a chunk at a time, and the head's, which this producer's reservation just wrote
  // (docs/durability.md; the cost measured in bench/README.md).
  if (claim_overtaken()) return close_overtaken_claim();
  const std::uint64_t frame_length = kRecordHeaderBytes + used_bytes;
  const std::uint64_t used_stride = format::frame_stride(frame_length);
  if (used_stride < claim_stride_) {
    // The unused tail of the claim becomes padding, committed before the record so that a
    // consumer passing the record finds it ready.
    const std::uint64_t tail_position = claim_position_ + used_stride;
    std::byte* tail = view_.at(geometry_.offset_of(tail_position), header_bytes_at(tail_position, geometry_));
    write_padding(tail, tail_position, claim_stride_ - used_stride, geometry_);
  }
  // Relaxed: only this producer writes its next sequence.
  const std::uint64_t sequence = atomic_field(slot_->next_sequence).load(std::memory_order_relaxed);
  const bool won = commit_claimed_frame(
      claim_frame_, fill_frame_header(claim_frame_, claim_position_, frame_length, payload_crc, sequence, timestamp_ns));
  if (won) advance_sequence(sequence, 1);
  close_claim(claim_position_ + claim_stride_);
  if (!won) return ClaimStatus::claim_lost;
  note_committed(1, used_bytes);
  return ClaimStatus::ok;
}

std::uint64_t ProducerCore::fill_frame_header(std::byte* frame, std::uint64_t position, std::uint64_t frame_length,
                                              std::uint32_t payload_crc, std::uint64_t sequence,
                                              std::uint64_t timestamp_ns, format::FrameType type) const noexcept {
  format::RecordHeader& header = header_of(frame);
  // Relaxed: the commit (a release store or CAS of the commit word) publishes it with the rest
  // of the header; atomic only because a consumer searching for boundaries may read a frame
  // still being written.
  atomic_field(header.position).store(position, std::memory_order_relaxed);
  header.timestamp_ns = timestamp_ns;
  header.producer_sequence = sequence;
  header.payload_crc32c = payload_crc;
  header.producer_slot = static_cast<std::uint16_t>(slot_index_);
  header.generation = file_.frame_generation();
  return format::make_commit_word(static_cast<std::uint32_t>(frame_length), type,
                                  geometry_.tag_of(position), options_.compute_checksums ? format::kChecksummedFlag : 0);
}

void ProducerCore::advance_sequence(std::uint64_t first_sequence, std::uint64_t records) noexcept {
  // Release: a consumer that loads the count (acquire, settle_tail_losses) then loads a head past
  // the records it counts, which this producer reserved first. Also published by the release
  // store that closes the claim next (close_published_claim), to a consumer that finds the claim
  // closed (learn_producer_sequences).
  atomic_field(slot_->next_sequence).store(first_sequence + records, std::memory_order_release);
}

void ProducerCore::note_committed(std::uint64_t records, std::uint64_t payload_bytes) noexcept {
  if (records == 0) return;
  stats_.records += records;
  stats_.bytes += payload_bytes;
  // Relaxed: counts for status, written only by this producer; nothing is published with them.
  atomic_field(slot_->committed_records).store(stats_.records, std::memory_order_relaxed);
  atomic_field(slot_->committed_bytes).store(stats_.bytes, std::memory_order_relaxed);
  wake_data_waiters();
  if (options_.sync.mode == SyncPolicy::Mode::bytes) {
    bytes_since_flush_ += payload_bytes;
    if (bytes_since_flush_ >= options_.sync.bytes) flush();
  }
}

ClaimStatus ProducerCore::abort() noexcept {
  if (!claim_open_) return ClaimStatus::no_claim;
  if (claim_overtaken()) return close_overtaken_claim();
  const bool won = abort_claimed_frame(claim_frame_, claim_position_, claim_stride_, geometry_);
  close_claim(claim_position_ + claim_stride_);
  if (!won) return ClaimStatus::claim_lost;
  wake_data_waiters();
  return ClaimStatus::ok;
}

void ProducerCore::abort_failed_write() noexcept {
  const int error = errno;
  if (truncated_) {
    // Padding over the claim would write into the mapping past the file's end: SIGBUS. Closed
    // as it is, its space below the head stays uncommitted; the ring is damaged anyway.
    close_claim(claim_position_ + claim_stride_);
  } else {
    abort();
  }
  errno = error;  // the write's, for the caller
}

ClaimStatus ProducerCore::write(std::span<const std::byte> payload, std::chrono::nanoseconds timeout) noexcept {
  if (const ClaimStatus status = claim_status(payload.size(), timeout, Filler::write); status != ClaimStatus::ok) {
    return status;
  }
  if (payload.size() >= kFileWriteThreshold) {
    if (!write_through_file(payload)) {
      abort_failed_write();
      return ClaimStatus::io_error;
    }
    // From the caller's buffer: reading the payload back through the mapping would fault every
    // page the file write put in the page cache.
    const std::uint64_t timestamp_ns = record_clock_.now_ns();
    return commit_frame(payload.size(), options_.compute_checksums ? crc32c(payload) : 0, timestamp_ns);
  }
  if (!payload.empty()) note_fill_in_place();
  // Stamped with the reservation's reading: the copy below 64 KiB takes well under the clock's
  // microseconds.
  return commit_frame(payload.size(), copy_into_frame(claim_frame_ + kRecordHeaderBytes, payload), claim_time_ns_);
}

ClaimStatus ProducerCore::reserve(std::uint64_t stride, bool end_on_line, Reservation* reservation) noexcept {
  auto head = atomic_field(header_.head_position.value);
  // Acquire: pairs with other producers' CAS; what matters is the CAS below, which is seq_cst.
  std::uint64_t start = head.load(std::memory_order_acquire);
  std::uint64_t padding = 0;
  std::uint64_t end = 0;
  // The claim's time ages it against the unblock timeout; write() and write_batch() also stamp
  // their records with it (they copy them in at once), so that such a record costs one reading
  // of a clock. The record clock: a coarse reading as well cost as much as the rest of the
  // reservation.
  std::uint64_t now_ns = record_clock_.now_ns();
  for (;;) {
    // The head was checked at open, but any process with the file open for writing can store
    // anything there since: a head no producer wrote (not 8-aligned, or absurdly far) would
    // place the padding and the frame across the end of the data area.
    if (!format::plausible_position(start)) [[unlikely]] return ClaimStatus::corrupt;
    // Nor does any producer move it back: below this producer's last reservation, it would have
    // the producers write over positions consumers have read, and consumers following them wait
    // for positions producers have yet to come back to (found by a tester: both ran on, exit 0).
    if (start < reserved_end_) [[unlikely]] return ClaimStatus::corrupt;
    const std::uint64_t offset = geometry_.offset_of(start);
    padding = offset + stride > geometry_.capacity ? geometry_.capacity - offset : 0;
    end = start + padding + stride;
    // A head at the last plausible position (forged) would leave one past it, which every later
    // open for writing refuses.
    if (end > format::kMostPosition) [[unlikely]] return ClaimStatus::corrupt;
    if (end_on_line) {
      const std::uint64_t line_end = format::align_up(end, format::kCacheLineBytes);
      const bool fits = line_end - (start + padding) <= geometry_.max_frame_stride &&
                        line_end <= geometry_.lap_end(start + padding);
      if (fits) end = line_end;
    }
    if (blocking() && !within_shared_limit(start, end) && !refresh_limit(end)) {
      last_blocked_end_ = end;
      blocked_by_ = limit_holder_ < format::kConsumerSlotCount ? format::kWaitForConsumer + limit_holder_ : 0;
      return ClaimStatus::would_block;
    }
    if (end > claims_limit_cache_ && !refresh_claims_limit(end)) {
      last_blocked_end_ = end;
      blocked_by_ = format::kWaitForOpenClaim;
      return ClaimStatus::would_block;
    }
    if (end > writable_cache_) {
      if (!ensure_prepared(end)) {
        last_blocked_end_ = end;
        blocked_by_ = pager_.held_by_claim(end) ? format::kWaitForOpenClaim : format::kWaitForPreparation;
        return ClaimStatus::would_block;
      }
      // The preparation may have waited for the disk (write-back, ensure_prepared): a claim
      // published with the time from before would look that much older to consumers, who pad
      // claims over by their age (found in review).
      now_ns = record_clock_.now_ns();
    }
    // Published before the head moves, so a consumer that finds this space uncommitted
    // below the head always finds the claim that covers it.
    publish_claim(*slot_, {start, end, now_ns});
    // seq_cst: the Dekker pairing with an attaching consumer (it lowers the limit, then
    // loads the head; this CAS, then the limit load below).
    if (head.compare_exchange_weak(start, end, std::memory_order_seq_cst, std::memory_order_acquire)) {
      reserved_end_ = end;
      break;
    }
    // Another producer reserved first: the claim just published covers nothing of ours. Left in
    // the slot while this producer goes on to wait for space, it would read as a live claim and
    // hold everyone's preparation (this producer's own too) at its start plus a lap, until the
    // unblock timeout, and the other producers' reservations at the same bound.
    close_published_claim(*slot_, end);
  }
  if (blocking()) wait_out_limit_race(end);
  if (end >= next_notify_ && housekeeper_ != nullptr) {
    // Normally the housekeeper prepares well ahead and the check above never has to wait.
    housekeeper_->notify(end);
    next_notify_ = end + pager_.chunk_bytes() / 2;
  }
  reservation->start = start;
  reservation->record_position = start + padding;
  reservation->end = end;
  reservation->time_ns = now_ns;
  if (padding != 0) {
    std::byte* frame = view_.at(geometry_.offset_of(start), header_bytes_at(start, geometry_));
    reservation->padding_written = frame != nullptr;
    if (frame != nullptr) write_padding(frame, start, padding, geometry_);
    // Kept across the wake-up: without a view, the claim fails with the mapping's errno.
    const int view_errno = errno;
    wake_data_waiters();
    errno = view_errno;
  }
  return ClaimStatus::ok;
}

void ProducerCore::wait_out_limit_race(std::uint64_t end) noexcept {
  // seq_cst: pairs with the attaching consumer's seq_cst CAS of the limit (see reserve()).
  if (atomic_field(header_.producer_limit.value).load(std::memory_order_seq_cst) >= end) return;
  last_blocked_end_ = end;
  while (!refresh_limit(end)) sleep_for_space(kSpaceRecheckNs);
}

bool ProducerCore::open_claim(std::uint64_t position, std::uint64_t stride, std::size_t payload_bytes) noexcept {
  claim_frame_ = view_.at(geometry_.offset_of(position), stride);
  if (claim_frame_ == nullptr) return false;
  claim_position_ = position;
  claim_stride_ = stride;
  claim_payload_bytes_ = payload_bytes;
  claim_fill_ = ClaimFill::in_place;
  claim_open_ = true;
  return true;
}

}  // namespace detail

Producer::Producer(const Ring& ring, const ProducerOptions& options)
    : core_(std::make_unique<detail::ProducerCore>(ring, options)) {}
Producer::Producer(const std::filesystem::path& path, const ProducerOptions& options)
    : Producer(Ring::open(path), options) {}
Producer::~Producer() = default;
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;

ClaimResult Producer::try_claim(std::size_t payload_bytes) noexcept { return core_->try_claim(payload_bytes); }
ClaimResult Producer::claim(std::size_t payload_bytes, std::chrono::nanoseconds timeout) noexcept {
  return core_->claim(payload_bytes, timeout);
}
ClaimStatus Producer::commit() noexcept { return core_->commit(core_->claimed_payload_bytes()); }
ClaimStatus Producer::commit(std::size_t used_bytes) noexcept { return core_->commit(used_bytes); }
ClaimStatus Producer::abort() noexcept { return core_->abort(); }
BatchResult Producer::write_batch(std::span<const std::span<const std::byte>> payloads,
                                  std::chrono::nanoseconds timeout) noexcept {
  return core_->write_batch(payloads, timeout);
}
ClaimStatus Producer::write(std::span<const std::byte> payload, std::chrono::nanoseconds timeout) noexcept {
  return core_->write(payload, timeout);
}
const ProducerStats& Producer::stats() const noexcept { return core_->stats(); }
std::uint32_t Producer::slot() const noexcept { return core_->slot(); }
const Ring& Producer::ring() const noexcept { return core_->ring(); }
bool Producer::flush() noexcept { return core_->flush(); }

}  // namespace ringfile
