// The state of one producer (see ringfile/producer.hpp for the contract): the claim, reservation
// and commit path in producer.cpp; several records under one reservation (write_batch) in
// producer_batch.cpp; what a reservation does when it finds no space at hand (limits,
// preparation, sleeping) in producer_space.cpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>

#include "atomics.hpp"
#include "data_view.hpp"
#include "housekeeper.hpp"
#include "paging.hpp"
#include "record_clock.hpp"
#include "ring_file.hpp"
#include "ringfile/producer.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

class ProducerCore {
 public:
  // Takes a producer slot; starts the housekeeper where paging or a sync interval needs one.
  ProducerCore(const Ring& ring, const ProducerOptions& options);

  ~ProducerCore();

  bool flush() noexcept;

  // Who fills a claim: the caller, through the span try_claim returns, write() from its own
  // buffer (then a large payload never needs the staging buffer), or write_batch() with a group of
  // records (then the claim ends on a cache line, see reserve).
  enum class Filler { caller, write, group };

  ClaimResult try_claim(std::size_t payload_bytes, Filler filler = Filler::caller) noexcept;

  ClaimResult claim(std::size_t payload_bytes, std::chrono::nanoseconds timeout,
                    Filler filler = Filler::caller) noexcept;

  BatchResult write_batch(std::span<const std::span<const std::byte>> payloads,
                          std::chrono::nanoseconds timeout) noexcept;

  ClaimStatus commit(std::size_t used_bytes) noexcept;

  // Fills in the header and publishes the record. @pre a claim is open, used_bytes fits it.
  // `timestamp_ns` is record_clock_'s reading for the record: taken by commit() before it
  // computed `payload_crc`, and by write() when it reserved the record's space (a payload of
  // 64 KiB or more: once it is in the file).
  ClaimStatus commit_frame(std::size_t used_bytes, std::uint32_t payload_crc, std::uint64_t timestamp_ns) noexcept;
  // Copies a payload into its frame; returns its CRC32C, or 0 with checksums off.
  std::uint32_t copy_into_frame(std::byte* to, std::span<const std::byte> payload) const noexcept;

  ClaimStatus abort() noexcept;

  ClaimStatus write(std::span<const std::byte> payload, std::chrono::nanoseconds timeout) noexcept;

  const ProducerStats& stats() const noexcept { return stats_; }
  std::uint32_t slot() const noexcept { return slot_index_; }
  const Ring& ring() const noexcept { return ring_; }
  std::size_t claimed_payload_bytes() const noexcept { return claim_payload_bytes_; }

 private:
  // A sleeping producer re-checks consumers this often even unwoken: a dead consumer never wakes it.
  static constexpr std::uint64_t kSpaceRecheckNs = 50'000'000;
  // And another producer's claim after this long at first, twice as long after each look up to
  // kSpaceRecheckNs: its commit wakes nobody (a wake-up would cost every commit a fence and a load
  // of the sleepers' line), and a claim that holds others back is most often one whose producer
  // was preempted between claim and commit, for a time slice or so. A look scans the producer
  // slots and reads the holder's /proc entry, so a producer stopped for long is not looked at
  // every millisecond.
  static constexpr std::uint64_t kFirstClaimRecheckNs = 1'000'000;
  static constexpr std::uint64_t kNothingToPrepare = std::numeric_limits<std::uint64_t>::max();
  // Below this a memcpy into the mapping costs less than a system call.
  static constexpr std::size_t kFileWriteThreshold = 64 * 1024;
  // With checksums on, claims from this size (and below kFileWriteThreshold) are filled in the
  // staging buffer, and commit() copies them into the frame computing the CRC32C in the same
  // pass (copy_with_crc32c), as write() does: computed over the frame after the caller filled it
  // in place, the CRC is a second pass over the payload. Below it that pass costs less than the
  // extra copy. Not where the CRC32C folds on 512-bit registers (crc32c_folds_wide): there the
  // second pass costs less than the copy (4 KiB between two processes, bench/README.md), and
  // write() copies payloads from this size the same way, then checksums them (copy_into_frame).
  static constexpr std::size_t kStagedCopyThreshold = 1024;
  // Staged claims (staging_buffer) up to this size; larger ones are filled in place.
  static constexpr std::size_t kMostStagedBytes = 16 << 20;

  struct Reservation {
    std::uint64_t start = 0;            // the padding to the lap's end, if any, starts here
    std::uint64_t record_position = 0;  // the record's frame
    std::uint64_t end = 0;              // the reservation's end: the claim spans [record_position, end)
    bool padding_written = true;        // false: no view for the padding frame
    std::uint64_t time_ns = 0;          // record_clock_ when reserved: the claim's time
  };

  // claim(), but for the result: the claim's buffer and position are open_claim_result()'s. The
  // internal steps of a claim return only a status (in a register); a ClaimResult handed up
  // through them was copied through the stack at each return, whole-register loads of fields
  // just stored one by one, which wait for the stores (store-to-load forwarding fails): 64 -> 57
  // ns a 64-byte write() in one thread, measured.
  ClaimStatus claim_status(std::size_t payload_bytes, std::chrono::nanoseconds timeout, Filler filler) noexcept;

  // The open claim as claim() and try_claim() return it. @pre a claim is open
  ClaimResult open_claim_result() const noexcept;

  // try_claim for `stride` bytes of frames, of which `payload_bytes` follow the first header.
  ClaimStatus try_claim_frames(std::uint64_t stride, std::size_t payload_bytes, Filler filler) noexcept;

  // try_claim_frames until it no longer returns would_block, waiting for space between tries as
  // the idle strategy says, up to `timeout`.
  ClaimStatus claim_frames(std::uint64_t stride, std::size_t payload_bytes, std::chrono::nanoseconds timeout,
                           Filler filler) noexcept;
  // claim_frames once the first try found no space: the waiting, out of line, so that a claim
  // that finds space at once does not pay for the waiting's frame (its registers saved and
  // restored at every call: 21 of a 64-byte write()'s 380 instructions, counted).
  [[gnu::noinline, gnu::cold]] ClaimStatus claim_frames_after_waiting(std::uint64_t stride, std::size_t payload_bytes,
                                                                      std::chrono::nanoseconds timeout,
                                                                      Filler filler) noexcept;

  // claim_open or too_large when a claim of `payload_bytes` is refused whatever the space; else ok.
  ClaimStatus refuse_claim(std::size_t payload_bytes) const noexcept;

  // How many of `payloads`, from the first, write_batch puts under one reservation (at least
  // two, else it writes the first on its own), and the bytes of their frames.
  std::size_t batch_group(std::span<const std::span<const std::byte>> payloads, std::uint64_t* stride) const noexcept;

  // Writes the group into the open claim made for it (and padding after it, where the claim runs
  // on to a cache line), commits it all at once, then closes the claim. Returns how many records
  // were committed: all, or none when a consumer padded the group over after the unblock timeout.
  std::size_t commit_group(std::span<const std::span<const std::byte>> payloads) noexcept;
  // Where a group frame's entries end, and the frame's length (to the last record's last byte).
  struct GroupEntries {
    std::uint64_t end_offset = 0;
    std::uint64_t frame_length = 0;
  };
  // commit_group's copying, in a file of format version 3 (one group frame): each record with its
  // entry; adds the payloads' bytes to `*payload_bytes`. The frame's header and the padding after
  // it are commit_group's, after it has checked that the ring did not pass the claim meanwhile.
  GroupEntries copy_group_entries(std::span<const std::span<const std::byte>> payloads,
                                  std::uint64_t* payload_bytes) noexcept;
  // The same in a file of version 2: a frame a record, all committed but the first (whose word it
  // returns), as they are copied.
  std::uint64_t fill_group_of_frames(std::span<const std::span<const std::byte>> payloads,
                                     std::uint64_t first_sequence, std::uint64_t* payload_bytes) noexcept;
  // Commits padding from `offset` (past the group's records) to the claim's end, if any is left.
  void pad_group_to_claim_end(std::uint64_t offset) noexcept;

  // Fills in a frame's header but for its commit word, and returns the word that commits it.
  std::uint64_t fill_frame_header(std::byte* frame, std::uint64_t position, std::uint64_t frame_length,
                                  std::uint32_t payload_crc, std::uint64_t sequence, std::uint64_t timestamp_ns,
                                  format::FrameType type = format::FrameType::data) const noexcept;

  // After `records` frames were committed with sequences from `first_sequence` on: the slot's
  // next sequence follows them. Before the claim closes: a consumer attaching at the head takes
  // the next sequence of a producer with no claim open as the one it will see first
  // (learn_producer_sequences), and with the claim closed first, it counted the claim's records,
  // below its start, as lost (a test of 200 attaches beside a batch writer failed 2-7 times in 30).
  void advance_sequence(std::uint64_t first_sequence, std::uint64_t records) noexcept;

  // After `records` frames of `payload_bytes` in all were committed and the claim closed:
  // counters, sleepers, the sync policy.
  void note_committed(std::uint64_t records, std::uint64_t payload_bytes) noexcept;

  // Reserves `stride` bytes (plus padding to the lap's end if they do not fit before it).
  // Returns would_block when there is no room yet: a holding consumer has not freed the space
  // (block policy), or the paging engine has not prepared it (see ensure_prepared); corrupt when
  // the head is no position a producer wrote.
  // With `end_on_line`, a write_batch group's: the reservation runs on to the next cache line
  // boundary where that stays within a maximum-size frame and the lap (the group's writer fills
  // the rest with padding). The consumer reads a group as soon as it is committed, while this
  // producer writes the next one: a line that holds the end of one group and the start of the
  // next goes back and forth between the two cores while both work in it. Measured with 64-byte
  // records between two processes (bench/README.md): in one spell, none of 30 passes fell to the
  // slow rate (below 21 M records/s, against 24-25 M) where 7 of 30 did without; in a slower
  // spell of the machine, no difference.
  ClaimStatus reserve(std::uint64_t stride, bool end_on_line, Reservation* reservation) noexcept;

  // Pads over the reservation a failed view left behind (see try_claim), then closes its claim.
  // False while no view can be mapped yet (errno: the mapping's).
  bool pad_stranded_reservation() noexcept;

  // The limit in force for everyone. Read on every reservation rather than cached: a consumer
  // that starts to follow lowers it (paces producers), and the line changes rarely, so the load
  // is a cache hit. Acquire: pairs with the CAS that changed it; the Dekker pairing that needs
  // seq_cst is the re-check after the reservation (wait_out_limit_race).
  std::uint64_t shared_limit() const noexcept {
    return atomic_field(header_.producer_limit.value).load(std::memory_order_acquire);
  }

  // Whether a reservation from `start` (the head as loaded) to `end` is within the shared limit,
  // and that limit one the library can have set: at most a lap past the head (else
  // refresh_limit sets it again; a forged one would let producers overwrite unread records). A
  // head loaded before another producer raised the limit makes it look too far out too: that
  // costs a refresh in a race, no more.
  bool within_shared_limit(std::uint64_t start, std::uint64_t end) const noexcept {
    const std::uint64_t limit = shared_limit();
    return end <= limit && limit <= start + geometry_.capacity;
  }

  bool blocking() const noexcept { return file_.policy() == WriterPolicy::block; }

  // Records are written through the mapping: from now on preparation zero-fills, so that the
  // writes find the pages in memory, in large folios (Pager::fill_prepared_with_zeros).
  void note_fill_in_place() noexcept;

  // Where a caller fills a medium claim with checksums on (ClaimFill::staged_copy, see
  // kStagedCopyThreshold) or a large one: a buffer of our own, copied into the frame at commit,
  // or written into the claimed range (write_through_file). Filling the mapping itself is slower
  // for large records: its pages were invalidated a lap ago, so each must first be created
  // zero-filled (the paging engine pwrite()s zeros ahead of the head for that) and then faulted
  // in one 4 KiB page at a time, where pwrite() of the payload creates them in large folios in
  // one pass. Measured in bench/README.md ("claim + fill + commit against write()"). Empty (fill
  // in place) when the buffer cannot be had.
  std::span<std::byte> staging_buffer(std::size_t payload_bytes) noexcept;

  // A large payload goes into the claimed range with pwrite(): the page cache takes it in large
  // folios, where a copy into the mapping faults (and, on a freshly invalidated range,
  // allocates) every 4 KiB page on its own - a quarter of the speed, measured. The mapping sees
  // the same page cache; the header is still written and committed through it.
  // False, with errno set, when the write failed or the file is shorter than the ring (cut short
  // under us: then errno is EIO and truncated_ is set).
  bool write_through_file(std::span<const std::byte> payload) noexcept;
  // Whether the file is shorter than the ring: truncated under us (sets truncated_ and errno EIO).
  bool file_cut_short() noexcept;
  // After write_through_file failed: aborts the claim, unless the file was cut short, where the
  // padding's write would fault; then the claim is only closed. Keeps the write's errno.
  void abort_failed_write() noexcept;

  // The old lap's bytes up to `end` must be invalidated before we may reserve them. Usually the
  // housekeeper has done it; if not, try once here. Returns false when it cannot be done now:
  // another producer still fills its claim a lap behind, or holding consumers have not read the
  // old lap there (blocked), write-back and release behind have not kept up with the budget
  // (throttled), or another process is preparing (busy). The caller sleeps until the frontiers
  // move (sleep_for_space); a retry here would only spin.
  bool ensure_prepared(std::uint64_t end) noexcept;

  bool refresh_limit(std::uint64_t end) noexcept;

  // Another producer a lap behind, still filling its claim, must not have its space reserved
  // again under it: its late bytes would land in the new records. Nor a claim whose owner is
  // gone, until it is padded over and closed (which this does). Recomputed about once a lap.
  bool refresh_claims_limit(std::uint64_t end) noexcept;

  // A consumer attaching right now may have lowered the limit below our fresh reservation
  // without seeing it: then we must not write until it has read the old lap's bytes there.
  void wait_out_limit_race(std::uint64_t end) noexcept;

  // Sleeps until the space up to last_blocked_end_ may be free: a consumer committed, a
  // frontier of the paging engine moved, or the timeout passed.
  void sleep_for_space(std::uint64_t timeout_ns) noexcept;

  void wake_data_waiters() noexcept {
    // Ordered after the seq_cst commit CAS (see commit() and wakeups.hpp).
    wake_sleepers(header_.data_wait);
  }

  // Opens the claim of the frames reserved at `position`; false (errno: the mapping's) when no
  // view can be mapped.
  bool open_claim(std::uint64_t position, std::uint64_t stride, std::size_t payload_bytes) noexcept;

  // Shows in our slot that no claim is open, the last one having ended at `end` (an empty claim
  // there: consumers resolving a frame below `end` no longer find it ours).
  void close_claim(std::uint64_t end) noexcept {
    claim_open_ = false;
    close_published_claim(*slot_, end);
  }

  // Whether the ring has gone on past the open claim into the next lap there: this producer
  // stalled past the unblock timeout, and either a consumer padded the claim over and other
  // producers have since reserved the bytes where it lies, or the preparation has invalidated
  // them for the next lap. Whatever is found there then is newer records or zeros, not an earlier
  // lap's bytes that a commit may overwrite, so a commit or an abort writes nothing
  // (close_overtaken_claim): a commit over zeroed pages would publish a record whose payload is
  // gone, and return ok for a record every consumer counts lost. Neither frontier passes a
  // claim's start plus a lap while the claim is younger than the unblock timeout
  // (open_claims_limit, live_claims_limit). The preparation announces its range before it
  // invalidates it, and may withdraw it: a claim this late is lost then all the same. The check
  // and the commit that follows are not one atomic step: a range announced between them (the
  // claim outlived the timeout, the producer stalled in those few instructions) is invalidated
  // after the commit, and consumers count that record lost (docs/durability.md).
  bool claim_overtaken() const noexcept { return lapped_past(claim_position_); }
  // Whether producers or the preparer have gone a lap past `position`: its bytes now belong to,
  // or were cleared for, newer records.
  bool lapped_past(std::uint64_t position) const noexcept {
    const std::uint64_t next_lap = position + geometry_.capacity;
    // Acquire, both: keeps the commit's writes after these loads. A head or a frontier past the
    // claim is all they say; nothing the producers or the preparer wrote before is read here.
    // The frontier first: a head loaded after it is as far on as when the frontier was chosen.
    const std::uint64_t preparing = atomic_field(header_.preparation.preparing_end).load(std::memory_order_acquire);
    const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
    if (head > next_lap) return true;
    // No preparer announces a range more than a lap past the head: such a frontier is a damaged
    // or forged header's, which the engine replaces with a range of its own, and says nothing of
    // this position (taken at its word, every commit failed until then).
    return preparing > next_lap && preparing <= head + geometry_.capacity;
  }
  // Whether a claim reserved at claim_time_ns_ may have been padded over by `now_ns` (a reading
  // of record_clock_), so that claim_overtaken must be asked before a staged payload goes in:
  // consumers pad a live producer's claim over only once it is older than the unblock timeout,
  // by their own clock (half of it here, for clocks a little apart). The commit itself asks
  // claim_overtaken always, after the payload is in (commit_frame, commit_group).
  bool claim_may_be_padded(std::uint64_t now_ns) const noexcept {
    return now_ns >= claim_time_ns_ + stale_claim_ns_;
  }
  ClaimStatus close_overtaken_claim() noexcept {
    close_claim(claim_position_ + claim_stride_);
    return ClaimStatus::claim_lost;
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
  std::uint64_t reserved_end_ = 0;      // this producer's last reservation's end: the head is never below
  std::uint64_t writable_cache_ = 0;     // Pager::writable_end() when last read
  std::uint64_t claims_limit_cache_ = 0;  // open_claims_limit() when last computed
  std::uint64_t next_notify_ = 0;        // reservation end at which to wake the housekeeper
  std::uint64_t bytes_since_flush_ = 0;
  Pager pager_;  // for this thread's own preparation when the housekeeper has fallen behind
  std::unique_ptr<Housekeeper> housekeeper_;
  ConsumerLivenessChecks liveness_checks_;
  RecordClock record_clock_;  // the records' timestamps
  ProducerStats stats_;
  // What the last failed reservation waits for (ringfile-status shows it).
  WaitReport wait_report_;
  std::uint64_t blocked_by_ = 0;   // format::kWaitFor...
  std::uint32_t limit_holder_ = 0;  // the consumer slot that kept the limit low

  bool fills_in_place_ = false;  // a record was written through the mapping
  bool truncated_ = false;       // a write found the file cut short (file_cut_short)
  struct {
    bool present = false;
    std::uint64_t start = 0, record_position = 0, end = 0;
  } stranded_;  // a reservation left without a view (try_claim)
  bool claim_open_ = false;
  // Where the caller fills the open claim: in place (the frame in the mapping), or in staging_,
  // which commit() copies into the frame (ClaimFill::staged_copy) or writes to the file with
  // pwrite() (ClaimFill::staged_write).
  enum class ClaimFill { in_place, staged_copy, staged_write };
  ClaimFill claim_fill_ = ClaimFill::in_place;
  // Page-aligned: glibc's memcpy of a few KiB (rep movsb) into a buffer 8 or 16 bytes past its
  // source modulo 4 KiB took 190-220 ns a 4 KiB copy here against 55-70 at other distances (AMD
  // EPYC), and a staging buffer allocated next to the caller's source buffer of the same size sits
  // just there (ringfile-bench-throughput: 0.46-0.58 M records/s of 4 KiB instead of 2.2-2.4 M).
  // Page-aligned, only a source in the last bytes of a page meets it.
  struct PageAlignedDelete {
    void operator()(std::byte* bytes) const noexcept { ::operator delete[](bytes, std::align_val_t{4096}); }
  };
  std::unique_ptr<std::byte[], PageAlignedDelete> staging_;
  std::size_t staging_bytes_ = 0;
  std::byte* claim_frame_ = nullptr;
  std::uint64_t claim_position_ = 0;
  std::uint64_t claim_stride_ = 0;
  std::size_t claim_payload_bytes_ = 0;
  std::uint64_t claim_time_ns_ = 0;  // the reservation's reading of record_clock_
  std::uint64_t stale_claim_ns_ = 0;  // half the unblock timeout (claim_may_be_padded)
};

}  // namespace ringfile::detail
