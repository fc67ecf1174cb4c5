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
#include "data_view.hpp"
#include "frames.hpp"
#include "futex.hpp"
#include "housekeeper.hpp"
#include "paging.hpp"
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

class ProducerCore {
 public:
  ProducerCore(const Ring& ring, const ProducerOptions& options)
      : ring_(ring),
        file_(file_of(ring)),
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
    if (pager_.strategy() == PagingStrategy::none) {
      writable_cache_ = kNothingToPrepare;  // no frontier to respect
    }
    if (pager_.strategy() != PagingStrategy::none || options_.sync.mode == SyncPolicy::Mode::interval) {
      housekeeper_ = std::make_unique<Housekeeper>(file_, options_.sync);
    }
  }

  ~ProducerCore() {
    housekeeper_.reset();
    if (claim_open_) abort();
    if (stranded_.present) pad_stranded_reservation();  // else consumers pad it, its owner gone
    // A producer asked to sync leaves nothing of its own dirty: the last records since the last
    // sync, and what the engine prepared (zero-filled) ahead of them meanwhile.
    if (options_.sync.mode != SyncPolicy::Mode::none) flush();
    release_producer_slot(file_, slot_index_);
  }

  bool flush() noexcept {
    bytes_since_flush_ = 0;
    return ::fdatasync(file_.fd()) == 0;
  }

  // Who fills a claim: the caller, through the span try_claim returns, or write() from its own
  // buffer (then a large payload never needs the staging buffer).
  enum class Filler { caller, write };

  ClaimResult try_claim(std::size_t payload_bytes, Filler filler = Filler::caller) noexcept {
    // A second claim would leave the first one's buffer in the caller's hands with nobody to
    // commit it: refuse it, loudly where assertions are on.
    assert(!claim_open_ && "commit() or abort() the open claim first");
    if (claim_open_) return {ClaimStatus::claim_open, {}};
    if (payload_bytes > geometry_.max_record_bytes) return {ClaimStatus::too_large, {}};
    const std::uint64_t stride = format::frame_stride(kRecordHeaderBytes + payload_bytes);
    if (stranded_.present && !pad_stranded_reservation()) return {ClaimStatus::would_block, {}};
    Reservation reservation;
    if (!reserve(stride, &reservation)) return {ClaimStatus::would_block, {}};
    std::span<std::byte> buffer =
        reservation.padding_written ? open_claim(reservation.record_position, stride, payload_bytes)
                                    : std::span<std::byte>{};
    if (buffer.data() == nullptr) {
      // No view could be mapped (the kernel refuses a bounded one only when memory is exhausted).
      // The claim stays published until this producer pads the space over at its next claim, so
      // consumers that get there first see whose it is and wait, or pad it themselves after the
      // unblock timeout. A new claim must not replace it before: space below the head that no
      // claim covers and nobody commits is what consumers report as damage.
      stranded_ = {true, reservation.start, reservation.record_position, reservation.record_position + stride};
      return {ClaimStatus::would_block, {}};
    }
    if (filler == Filler::caller && payload_bytes >= kFileWriteThreshold) {
      const std::span<std::byte> staged = staging_buffer(payload_bytes);
      if (staged.data() != nullptr) {
        buffer = staged;
        claim_staged_ = true;
      }
    }
    return {ClaimStatus::ok, buffer, reservation.record_position};
  }

  ClaimResult claim(std::size_t payload_bytes, std::chrono::nanoseconds timeout,
                    Filler filler = Filler::caller) noexcept {
    ClaimResult result = try_claim(payload_bytes, filler);
    if (result.status != ClaimStatus::would_block) return result;
    wait_report_.waiting(blocked_by_);
    const std::uint64_t started = monotonic_ns();
    const std::uint64_t deadline = timeout == std::chrono::nanoseconds::max()
                                       ? std::numeric_limits<std::uint64_t>::max()
                                       : started + static_cast<std::uint64_t>(std::max<std::int64_t>(timeout.count(), 0));
    for (;;) {
      const std::uint64_t now = monotonic_ns();
      if (now >= deadline) {
        stats_.backpressure_ns += now - started;
        wait_report_.ended(false, stats_.backpressure_ns);
        return {ClaimStatus::timed_out, {}};
      }
      if (options_.idle == IdleStrategy::busy_spin ||
          (options_.idle == IdleStrategy::spin_then_sleep && now < started + kSpinBeforeSleepNs)) {
        cpu_relax();
      } else {
        sleep_for_space(std::min<std::uint64_t>(deadline - now, kSpaceRecheckNs));
      }
      result = try_claim(payload_bytes, filler);
      if (result.status != ClaimStatus::would_block) {
        stats_.backpressure_ns += monotonic_ns() - started;
        wait_report_.ended(true, stats_.backpressure_ns);
        return result;
      }
      wait_report_.waiting(blocked_by_);
    }
  }

  ClaimStatus commit(std::size_t used_bytes) noexcept {
    if (!claim_open_) return ClaimStatus::no_claim;
    if (used_bytes > claim_payload_bytes_) return ClaimStatus::too_large;
    if (claim_staged_) {
      const std::span<const std::byte> payload{staging_.get(), used_bytes};
      if (!write_through_file(payload)) {
        abort();
        return ClaimStatus::io_error;
      }
      return commit_frame(used_bytes, options_.compute_checksums ? crc32c(payload) : 0);
    }
    note_fill_in_place();
    const std::uint32_t payload_crc =
        options_.compute_checksums ? crc32c({claim_frame_ + kRecordHeaderBytes, used_bytes}) : 0;
    return commit_frame(used_bytes, payload_crc);
  }

  // Fills in the header and publishes the record. @pre a claim is open, used_bytes fits it.
  ClaimStatus commit_frame(std::size_t used_bytes, std::uint32_t payload_crc) noexcept {
    const std::uint64_t frame_length = kRecordHeaderBytes + used_bytes;
    const std::uint64_t used_stride = format::frame_stride(frame_length);
    if (used_stride < claim_stride_) {
      // The unused tail of the claim becomes padding, committed before the record so that a
      // consumer passing the record finds it ready.
      const std::uint64_t tail_position = claim_position_ + used_stride;
      std::byte* tail = view_.at(geometry_.offset_of(tail_position), header_bytes_at(tail_position, geometry_));
      write_padding(tail, tail_position, claim_stride_ - used_stride, geometry_);
    }
    format::RecordHeader& header = header_of(claim_frame_);
    // Relaxed: only this producer writes its next sequence.
    const std::uint64_t sequence = atomic_field(slot_->next_sequence).load(std::memory_order_relaxed);
    // Relaxed: the commit CAS below (release) publishes it with the rest of the header; atomic
    // only because a consumer searching for boundaries may read a frame still being written.
    atomic_field(header.position).store(claim_position_, std::memory_order_relaxed);
    header.timestamp_ns = realtime_ns();
    header.producer_sequence = sequence;
    header.payload_crc32c = payload_crc;
    header.producer_slot = static_cast<std::uint16_t>(slot_index_);
    header.generation = file_.frame_generation();
    std::uint64_t expected = claim_old_word_;
    const std::uint64_t committed =
        format::make_commit_word(static_cast<std::uint32_t>(frame_length), FrameType::data,
                                 geometry_.tag_of(claim_position_), options_.compute_checksums ? format::kChecksummedFlag : 0);
    // THE COMMIT. seq_cst: release publishes header and payload to consumers' acquire load of
    // the commit word; the total order with the data-waiter count below is the Dekker pairing
    // with a consumer that registers as a sleeper and then re-checks this word. It fails when a
    // consumer padded the claim over after the unblock timeout.
    const bool won = atomic_field(commit_word_of(claim_frame_))
                         .compare_exchange_strong(expected, committed, std::memory_order_seq_cst);
    close_claim(claim_position_ + claim_stride_);
    if (!won) return ClaimStatus::claim_lost;
    // Relaxed: only this producer writes its line; status readers tolerate a stale count.
    atomic_field(slot_->next_sequence).store(sequence + 1, std::memory_order_relaxed);
    stats_.records += 1;
    stats_.bytes += used_bytes;
    // Relaxed: counts for status, written only by this producer; nothing is published with them.
    atomic_field(slot_->committed_records).store(stats_.records, std::memory_order_relaxed);
    atomic_field(slot_->committed_bytes).store(stats_.bytes, std::memory_order_relaxed);
    wake_data_waiters();
    if (options_.sync.mode == SyncPolicy::Mode::bytes) {
      bytes_since_flush_ += used_bytes;
      if (bytes_since_flush_ >= options_.sync.bytes) flush();
    }
    return ClaimStatus::ok;
  }

  ClaimStatus abort() noexcept {
    if (!claim_open_) return ClaimStatus::no_claim;
    const bool won = pad_over(claim_frame_, claim_position_, claim_stride_, claim_old_word_, geometry_);
    close_claim(claim_position_ + claim_stride_);
    if (!won) return ClaimStatus::claim_lost;
    wake_data_waiters();
    return ClaimStatus::ok;
  }

  ClaimStatus write(std::span<const std::byte> payload, std::chrono::nanoseconds timeout) noexcept {
    ClaimResult result = claim(payload.size(), timeout, Filler::write);
    if (!result) return result.status;
    if (payload.size() >= kFileWriteThreshold) {
      if (!write_through_file(payload)) {
        abort();
        return ClaimStatus::io_error;
      }
    } else if (!payload.empty()) {
      note_fill_in_place();
      std::memcpy(result.buffer.data(), payload.data(), payload.size());
    }
    // From the caller's buffer: reading the payload back through the mapping would fault every
    // page the file write put in the page cache.
    return commit_frame(payload.size(), options_.compute_checksums ? crc32c(payload) : 0);
  }

  const ProducerStats& stats() const noexcept { return stats_; }
  std::uint32_t slot() const noexcept { return slot_index_; }
  const Ring& ring() const noexcept { return ring_; }
  std::size_t claimed_payload_bytes() const noexcept { return claim_payload_bytes_; }

 private:
  // A sleeping producer re-checks consumers this often even unwoken: a dead consumer never wakes it.
  static constexpr std::uint64_t kSpaceRecheckNs = 50'000'000;
  static constexpr std::uint64_t kNothingToPrepare = std::numeric_limits<std::uint64_t>::max();
  // Below this a memcpy into the mapping costs less than a system call.
  static constexpr std::size_t kFileWriteThreshold = 64 * 1024;
  // Claims up to this size are filled in the staging buffer (staging_buffer); larger ones in place.
  static constexpr std::size_t kMostStagedBytes = 16 << 20;

  struct Reservation {
    std::uint64_t start = 0;            // the padding to the lap's end, if any, starts here
    std::uint64_t record_position = 0;  // the record's frame
    bool padding_written = true;        // false: no view for the padding frame
  };

  // Reserves `stride` bytes (plus padding to the lap's end if they do not fit before it).
  // Returns false when there is no room yet: a holding consumer has not freed the space (block
  // policy), or the paging engine has not prepared it (see ensure_prepared).
  bool reserve(std::uint64_t stride, Reservation* reservation) noexcept {
    auto head = atomic_field(header_.head_position.value);
    // Acquire: pairs with other producers' CAS; what matters is the CAS below, which is seq_cst.
    std::uint64_t start = head.load(std::memory_order_acquire);
    std::uint64_t padding = 0;
    std::uint64_t end = 0;
    for (;;) {
      const std::uint64_t offset = geometry_.offset_of(start);
      padding = offset + stride > geometry_.capacity ? geometry_.capacity - offset : 0;
      end = start + padding + stride;
      if (blocking() && end > shared_limit() && !refresh_limit(end)) {
        last_blocked_end_ = end;
        blocked_by_ = limit_holder_ < format::kConsumerSlotCount ? format::kWaitForConsumer + limit_holder_ : 0;
        return false;
      }
      if (end > claims_limit_cache_ && !refresh_claims_limit(end)) {
        last_blocked_end_ = end;
        blocked_by_ = format::kWaitForOpenClaim;
        return false;
      }
      if (end > writable_cache_ && !ensure_prepared(end)) {
        last_blocked_end_ = end;
        blocked_by_ = format::kWaitForPreparation;
        return false;
      }
      // Published before the head moves, so a consumer that finds this space uncommitted
      // below the head always finds the claim that covers it. The coarse clock: the time only
      // ages the claim against the unblock timeout, and a precise reading per record cost as
      // much as the rest of the reservation.
      publish_claim(*slot_, {start, end, coarse_realtime_ns()});
      // seq_cst: the Dekker pairing with an attaching consumer (it lowers the limit, then
      // loads the head; this CAS, then the limit load below).
      if (head.compare_exchange_weak(start, end, std::memory_order_seq_cst, std::memory_order_acquire)) {
        break;
      }
    }
    if (blocking()) wait_out_limit_race(end);
    if (end >= next_notify_ && housekeeper_ != nullptr) {
      // Normally the housekeeper prepares well ahead and the check above never has to wait.
      housekeeper_->notify(end);
      next_notify_ = end + pager_.chunk_bytes() / 2;
    }
    reservation->start = start;
    reservation->record_position = start + padding;
    if (padding != 0) {
      std::byte* frame = view_.at(geometry_.offset_of(start), header_bytes_at(start, geometry_));
      reservation->padding_written = frame != nullptr;
      if (frame != nullptr) write_padding(frame, start, padding, geometry_);
      wake_data_waiters();
    }
    return true;
  }

  // Pads over the reservation a failed view left behind (see try_claim), then closes its claim.
  // False while no view can be mapped yet.
  bool pad_stranded_reservation() noexcept {
    // Acquire: pairs with the producers' head CAS; only tells whether the space was reused.
    const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
    // A lap later the space belongs to newer records: its claim outlived the unblock timeout,
    // consumers padded it over, and producers went on (open_claims_limit let them).
    if (head <= stranded_.start + geometry_.capacity) {
      const std::uint64_t parts[2][2] = {{stranded_.start, stranded_.record_position},
                                         {stranded_.record_position, stranded_.end}};
      for (const auto& [from, to] : parts) {
        if (from == to) continue;
        std::byte* frame = view_.at(geometry_.offset_of(from), header_bytes_at(from, geometry_));
        if (frame == nullptr) return false;
        // Acquire: pairs with a consumer's CAS that padded it over first.
        const std::uint64_t word = atomic_field(commit_word_of(frame)).load(std::memory_order_acquire);
        const bool committed_this_lap =
            format::commit_word_length(word) != 0 && format::commit_word_tag(word) == geometry_.tag_of(from);
        if (!committed_this_lap) pad_over(frame, from, to - from, word, geometry_);
      }
    }
    stranded_.present = false;
    close_claim(stranded_.end);
    wake_data_waiters();
    return true;
  }

  // The limit in force for everyone. Read on every reservation rather than cached: a consumer
  // that starts to follow lowers it (paces producers), and the line changes rarely, so the load
  // is a cache hit. Acquire: pairs with the CAS that changed it; the Dekker pairing that needs
  // seq_cst is the re-check after the reservation (wait_out_limit_race).
  std::uint64_t shared_limit() const noexcept {
    return atomic_field(header_.producer_limit.value).load(std::memory_order_acquire);
  }

  bool blocking() const noexcept { return file_.policy() == WriterPolicy::block; }

  // Records are written through the mapping: from now on preparation zero-fills, so that the
  // writes find the pages in memory, in large folios (Pager::fill_prepared_with_zeros).
  void note_fill_in_place() noexcept {
    if (fills_in_place_) return;
    fills_in_place_ = true;
    pager_.fill_prepared_with_zeros();
    if (housekeeper_ != nullptr) housekeeper_->producer_fills_in_place();
  }

  // Where a caller fills a large claim: a buffer of our own, written into the claimed range at
  // commit (write_through_file). Filling the mapping itself is slower for large records: its
  // pages were invalidated a lap ago, so each must first be created zero-filled (the paging
  // engine pwrite()s zeros ahead of the head for that) and then faulted in one 4 KiB page at a
  // time, where pwrite() of the payload creates them in large folios in one pass. Measured in
  // bench/README.md ("claim + fill + commit against write()"). Empty (fill in place) when the
  // buffer cannot be had.
  std::span<std::byte> staging_buffer(std::size_t payload_bytes) noexcept {
    if (payload_bytes > kMostStagedBytes) return {};
    if (staging_bytes_ < payload_bytes) {
      // Grown to the largest claim so far, once per size: not on the path of every record.
      staging_.reset(new (std::nothrow) std::byte[payload_bytes]);
      staging_bytes_ = staging_ ? payload_bytes : 0;
      if (!staging_) return {};
    }
    return {staging_.get(), payload_bytes};
  }

  // A large payload goes into the claimed range with pwrite(): the page cache takes it in large
  // folios, where a copy into the mapping faults (and, on a freshly invalidated range,
  // allocates) every 4 KiB page on its own - a quarter of the speed, measured. The mapping sees
  // the same page cache; the header is still written and committed through it.
  bool write_through_file(std::span<const std::byte> payload) noexcept {
    const auto offset = static_cast<off_t>(file_.info().data_offset + geometry_.offset_of(claim_position_) +
                                           kRecordHeaderBytes);
    std::size_t written = 0;
    while (written < payload.size()) {
      const ssize_t result = ::pwrite(file_.fd(), payload.data() + written, payload.size() - written,
                                      offset + static_cast<off_t>(written));
      if (result < 0 && errno == EINTR) continue;
      if (result <= 0) return false;
      written += static_cast<std::size_t>(result);
    }
    return true;
  }

  // The old lap's bytes up to `end` must be invalidated before we may reserve them. Usually the
  // housekeeper has done it; if not, try once here. Returns false when it cannot be done now:
  // holding consumers have not read the old lap there (blocked), write-back and release behind
  // have not kept up with the budget (throttled), or another process is preparing (busy). The
  // caller sleeps until the frontiers move (sleep_for_space); a retry here would only spin.
  bool ensure_prepared(std::uint64_t end) noexcept {
    writable_cache_ = pager_.writable_end();
    if (end <= writable_cache_) return true;
    // Prepare a stretch ahead while at it, so that other producers find it ready.
    const PrepareOutcome outcome = pager_.prepare_until(end + pager_.ahead_bytes());
    if (outcome == PrepareOutcome::throttled) {
      // The disk is behind: write back and release here, waiting for the disk if need be. This
      // is the back-pressure that keeps memory bounded when producers outrun the disk.
      pager_.start_writeback();
      if (pager_.release_behind()) pager_.prepare_until(end + pager_.ahead_bytes());
    }
    if (housekeeper_ != nullptr) housekeeper_->notify(end);
    writable_cache_ = pager_.writable_end();
    return end <= writable_cache_;
  }

  bool refresh_limit(std::uint64_t end) noexcept {
    return end <= refresh_producer_limit(file_, end, liveness_checks_, &limit_holder_);
  }

  // Another producer a lap behind, still filling its claim, must not have its space reserved
  // again under it: its late bytes would land in the new records. Recomputed about once a lap.
  bool refresh_claims_limit(std::uint64_t end) noexcept {
    claims_limit_cache_ = open_claims_limit(file_, slot_index_);
    return end <= claims_limit_cache_;
  }

  // A consumer attaching right now may have lowered the limit below our fresh reservation
  // without seeing it: then we must not write until it has read the old lap's bytes there.
  void wait_out_limit_race(std::uint64_t end) noexcept {
    // seq_cst: pairs with the attaching consumer's seq_cst CAS of the limit (see reserve()).
    if (atomic_field(header_.producer_limit.value).load(std::memory_order_seq_cst) >= end) return;
    last_blocked_end_ = end;
    while (!refresh_limit(end)) sleep_for_space(kSpaceRecheckNs);
  }

  // Sleeps until the space up to last_blocked_end_ may be free: a consumer committed, a
  // frontier of the paging engine moved, or the timeout passed.
  void sleep_for_space(std::uint64_t timeout_ns) noexcept {
    auto& wait = header_.space_wait;
    // seq_cst increment, then the re-check: Dekker with a consumer's seq_cst cursor store and a
    // preparer's seq_cst frontier store, each followed by its load of sleepers (wakeups.hpp).
    atomic_field(wait.sleepers).fetch_add(1, std::memory_order_seq_cst);
    const std::uint32_t observed = atomic_field(wait.futex_word).load(std::memory_order_seq_cst);
    const bool limit_allows =
        (!blocking() || refresh_limit(last_blocked_end_)) && refresh_claims_limit(last_blocked_end_);
    const bool writable = writable_cache_ == kNothingToPrepare || pager_.writable_end() >= last_blocked_end_;
    if (!limit_allows || !writable) {
      futex_wait(&wait.futex_word, observed, std::chrono::nanoseconds(timeout_ns));
    }
    // seq_cst, as the increment: the pair brackets the re-check (wakeups.hpp).
    atomic_field(wait.sleepers).fetch_sub(1, std::memory_order_seq_cst);
  }

  void wake_data_waiters() noexcept {
    // Ordered after the seq_cst commit CAS (see commit() and wakeups.hpp).
    wake_sleepers(header_.data_wait);
  }

  std::span<std::byte> open_claim(std::uint64_t position, std::uint64_t stride,
                                  std::size_t payload_bytes) noexcept {
    claim_frame_ = view_.at(geometry_.offset_of(position), stride);
    if (claim_frame_ == nullptr) return {};
    claim_position_ = position;
    claim_stride_ = stride;
    claim_payload_bytes_ = payload_bytes;
    claim_staged_ = false;
    // The word now there (stale, zero) is what commit or abort replaces: a consumer padding the
    // claim over replaces it first and so makes our late commit fail instead of corrupting.
    claim_old_word_ = atomic_field(commit_word_of(claim_frame_)).load(std::memory_order_relaxed);
    claim_open_ = true;
    return {claim_frame_ + kRecordHeaderBytes, payload_bytes};
  }

  // Shows in our slot that no claim is open, the last one having ended at `end` (an empty claim
  // there: consumers resolving a frame below `end` no longer find it ours).
  void close_claim(std::uint64_t end) noexcept {
    claim_open_ = false;
    publish_claim(*slot_, {end, end, 0});
  }

  Ring ring_;
  RingFile& file_;
  format::FileHeader& header_;
  const Geometry& geometry_;
  ProducerOptions options_;
  DataView view_;
  std::uint32_t slot_index_ = 0;
  format::ProducerSlot* slot_ = nullptr;
  std::uint64_t last_blocked_end_ = 0;  // the reservation end that last found no space
  std::uint64_t writable_cache_ = 0;     // Pager::writable_end() when last read
  std::uint64_t claims_limit_cache_ = 0;  // open_claims_limit() when last computed
  std::uint64_t next_notify_ = 0;        // reservation end at which to wake the housekeeper
  std::uint64_t bytes_since_flush_ = 0;
  Pager pager_;  // for this thread's own preparation when the housekeeper has fallen behind
  std::unique_ptr<Housekeeper> housekeeper_;
  ConsumerLivenessChecks liveness_checks_;
  ProducerStats stats_;
  // What the last failed reservation waits for (ringfile-status shows it).
  WaitReport wait_report_;
  std::uint64_t blocked_by_ = 0;   // format::kWaitFor...
  std::uint32_t limit_holder_ = 0;  // the consumer slot that kept the limit low

  bool fills_in_place_ = false;  // a record was written through the mapping
  struct {
    bool present = false;
    std::uint64_t start = 0, record_position = 0, end = 0;
  } stranded_;  // a reservation left without a view (try_claim)
  bool claim_open_ = false;
  bool claim_staged_ = false;  // the caller fills staging_, commit() writes it to the file
  std::unique_ptr<std::byte[]> staging_;
  std::size_t staging_bytes_ = 0;
  std::byte* claim_frame_ = nullptr;
  std::uint64_t claim_position_ = 0;
  std::uint64_t claim_stride_ = 0;
  std::size_t claim_payload_bytes_ = 0;
  std::uint64_t claim_old_word_ = 0;
};

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
ClaimStatus Producer::write(std::span<const std::byte> payload, std::chrono::nanoseconds timeout) noexcept {
  return core_->write(payload, timeout);
}
const ProducerStats& Producer::stats() const noexcept { return core_->stats(); }
std::uint32_t Producer::slot() const noexcept { return core_->slot(); }
const Ring& Producer::ring() const noexcept { return core_->ring(); }
bool Producer::flush() noexcept { return core_->flush(); }

}  // namespace ringfile
