// Appending records to a ring: claim a span, fill it, commit. A small claim's span lies in the
// mapping itself (zero copy: below 1 KiB, and below 64 KiB without checksums or where the CRC32C
// folds on 512-bit registers); a medium one's is a buffer the commit copies in computing the
// checksum on the way; from 64 KiB to 16 MiB it is a buffer written into the ring by the commit
// with one pwrite(), which is faster there (see try_claim).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "ringfile/options.hpp"
#include "ringfile/ring.hpp"

namespace ringfile {

namespace detail {
class ProducerCore;
}

enum class ClaimStatus {
  ok,
  would_block,  // block policy: no space until a holding consumer moves on
  too_large,    // more than the ring's max_record_bytes; commit(used_bytes): more than claimed
                // (the claim stays open)
  timed_out,    // claim(): no space within the timeout
  claim_lost,   // commit(): the claim was padded over after the unblock timeout
  no_claim,     // commit()/abort() without an open claim
  claim_open,   // try_claim()/claim()/write() while a claim is open: commit() or abort() it first.
                // A misuse: debug builds stop at an assertion; release builds return this and
                // leave the open claim as it was.
  io_error,     // write(), commit() of a large claim: the kernel refused the write to the ring
                // file (errno says why), or the file was cut short under it (errno EIO; see
                // ringfile/truncated_rings.hpp); the claim was aborted. Or try_claim(), claim(),
                // write(), write_batch(): the kernel refused the mapping of the part of the ring
                // file the claim needs (errno: ENOMEM, out of address space or memory), at once,
                // waiting would not bring it. The space was reserved already: this producer pads
                // it over at its next claim that can map it (consumers wait at it meanwhile, and
                // pad it over themselves after the unblock timeout).
  corrupt,      // the ring's head is no position a producer writes, or went back below what this
                // producer reserved: the header was damaged (or forged) while the ring was open.
                // Nothing was written; stop writing to this ring.
};

const char* to_string(ClaimStatus status) noexcept;

struct ClaimResult {
  ClaimStatus status = ClaimStatus::no_claim;
  std::span<std::byte> buffer;  // valid until commit() or abort()
  std::uint64_t position = 0;   // the record's position once committed (its Record::position)
  explicit operator bool() const noexcept { return status == ClaimStatus::ok; }
};

// What write_batch() did: `records` of the payloads, from the first, are committed; the rest
// (when status is not ok) are not, and may be written again.
struct BatchResult {
  ClaimStatus status = ClaimStatus::ok;
  std::size_t records = 0;
  explicit operator bool() const noexcept { return status == ClaimStatus::ok; }
};

struct ProducerOptions {
  IdleStrategy idle = IdleStrategy::spin_then_sleep;
  // Compute each payload's CRC32C (else the field is 0, and consumers check nothing).
  bool compute_checksums = true;
  SyncPolicy sync;
  // For latency: on a ring in memory (tmpfs) that the producer maps whole, read a byte of every
  // page at attach, so that no record of the first lap pays for its page's first access. Where
  // the host shadows the guest's page tables (some hypervisors) that first access costs
  // microseconds a page even with the tables filled; attach then takes as long (0.6 s for
  // 256 MiB measured). Elsewhere, and on other rings, it does nothing worth having.
  bool pre_touch = false;
};

struct ProducerStats {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;               // payload bytes committed
  std::uint64_t backpressure_ns = 0;     // time spent waiting for space
};

// @pre one thread at a time per Producer; use one Producer per thread. Many Producer objects, in
// one process or many, may write the same ring concurrently. A Producer runs a housekeeping
// thread (the paging engine), so it does not survive fork(): create producers after forking.
class Producer {
 public:
  // Takes a producer slot in the ring. Throws Error (table_full; permission_denied; invalid_argument
  // for a ring opened read-only, or a moved-from Ring). A moved-from Producer may only be
  // assigned to or destroyed.
  explicit Producer(const Ring& ring, const ProducerOptions& options = {});
  // Opens the ring at `path` (Ring::open) and takes a slot in it.
  explicit Producer(const std::filesystem::path& path, const ProducerOptions& options = {});
  ~Producer();
  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;

  // Reserves `payload_bytes` at the head. Never blocks on space (block policy: would_block).
  // @pre no claim open (else claim_open, see ClaimStatus).
  // The buffer of a claim below 1 KiB (below 64 KiB with checksums off) is the record's place in
  // the mapping. From 1 KiB to 64 KiB with checksums on, it is a buffer the producer keeps (page
  // aligned), and commit() copies it into the record computing its CRC32C in the same pass, as
  // write() does: over the record in place, the CRC would be a second pass over it (4 KiB records
  // between two processes: 0.83-0.99x of the rate without checksums this way, 0.56-0.70x in
  // place). Not on CPUs with AVX-512 VPCLMULQDQ: there the CRC32C folds on 512-bit registers, a
  // second pass costs less than the copy, and the buffer is the mapping up to 64 KiB. From 64 KiB
  // on (up to 16 MiB) it is a buffer the producer keeps on every CPU, and commit() writes it with
  // pwrite(): the mapping's pages there were invalidated a lap ago, and filling them through the
  // mapping costs a page fault and a zero-fill per 4 KiB, where pwrite() makes them in large
  // folios in one pass (measured, bench/README.md).
  // Fill a claim within the ring's unblock timeout: after it, consumers take this producer for
  // stuck, pad the claim over, and other producers may reuse its space, where a buffer in the
  // mapping still points. Bytes written there after that land in newer records (which then fail
  // their checksums; without checksums nothing shows it), and commit() returns claim_lost.
  ClaimResult try_claim(std::size_t payload_bytes) noexcept;
  // As try_claim, waiting up to `timeout` for a holding consumer to make space.
  ClaimResult claim(std::size_t payload_bytes, std::chrono::nanoseconds timeout) noexcept;
  // Publishes the open claim (all of it, or its first `used_bytes`; the rest becomes padding).
  ClaimStatus commit() noexcept;
  ClaimStatus commit(std::size_t used_bytes) noexcept;
  // Turns the open claim into padding that consumers skip.
  ClaimStatus abort() noexcept;

  // claim + copy + commit; waits for space up to `timeout`. Payloads of 64 KiB and more are copied
  // with pwrite() into the claimed range rather than through the mapping (much faster into
  // freshly invalidated space); either way the record is published by the same commit.
  ClaimStatus write(std::span<const std::byte> payload,
                    std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept;

  // Appends the payloads in order, as write() of each would, for less per record: small records
  // (up to kBatchRecordBytes) share one reservation of the head, one claim publication, one
  // timestamp and one wake-up of sleeping consumers, up to kMostBatchRecords of them or a
  // maximum-size record's worth of bytes at a time. In a ring of format version 3 the group is one
  // frame, a header and an 8-byte entry a record (docs/format.md, "Group frames"); each record
  // keeps its own position, sequence number and checksum, and such a group becomes readable all at once: a group padded over
  // because this process stalled past the unblock timeout (claim_lost) was read by nobody, and
  // `records` counts none of it. A group's space ends on a 64-byte line where it fits (up to 56
  // bytes of padding after it), so that the next group starts on a line of its own. Larger
  // payloads are written one by one.
  // Waits for space up to `timeout` in all. Stops at the first record it cannot write.
  BatchResult write_batch(std::span<const std::span<const std::byte>> payloads,
                          std::chrono::nanoseconds timeout = std::chrono::nanoseconds::max()) noexcept;
  static constexpr std::size_t kMostBatchRecords = 64;
  static constexpr std::size_t kBatchRecordBytes = 4096;

  // Waits until every record committed to this ring so far (by any producer) is on disk, so it
  // survives a power cut. Returns false (errno set) if the kernel reports a write error.
  bool flush() noexcept;

  const ProducerStats& stats() const noexcept;
  std::uint32_t slot() const noexcept;
  const Ring& ring() const noexcept;

 private:
  std::unique_ptr<detail::ProducerCore> core_;
};

}  // namespace ringfile
