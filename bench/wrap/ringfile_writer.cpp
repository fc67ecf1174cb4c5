// The ringfile kinds: the library itself, one kind per paging strategy (the way the old lap's
// bytes ahead of the head are invalidated, see lib/include/ringfile/options.hpp).
//
// The ring is a ringfile::Ring of capacity ring_bytes. Without --readers its policy is
// `overwrite`, so the writer never waits, as the baselines never do; with --readers it is
// `block` and each ring's reader is a ringfile::Consumer that holds the writer back, so no
// record is ever lost and the paging engine may invalidate only what the reader has passed.
// Each record is claimed in the mapping, filled with one memcpy of the harness's record (the
// same bytes the baselines write) and committed: the zero-copy path a user of the library takes.
// --ringfile-copy-api writes it with Producer::write() instead (the library's copying call).
#include <chrono>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include <ringfile/consumer.hpp>
#include <ringfile/error.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "support/setup_error.hpp"
#include "wrap/record_stamp.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

// With block policy a claim waits for the reader; a reader that has not moved for this long
// is stuck, and the writer gives up rather than hang the run.
constexpr std::chrono::seconds kClaimTimeout{10};
// As the pread follower: bounded, so the harness gets to check for the end of the run.
constexpr std::size_t kMaxRecordsPerPoll = 64;

const char* strategy_name(PagingStrategy strategy) noexcept {
  switch (strategy) {
    case PagingStrategy::automatic: return "automatic";
    case PagingStrategy::zero_range: return "zero_range";
    case PagingStrategy::punch_hole: return "punch_hole";
    case PagingStrategy::prefetch_only: return "prefetch_only";
    case PagingStrategy::none: return "none";
  }
  return "?";
}

OpenOptions open_options(const RingSetup& setup) {
  OpenOptions options;
  options.view_bytes = setup.ringfile_view_bytes;
  return options;
}

// Creates the ring with `requested` paging and refuses if the filesystem made the library fall
// back to another strategy: a kind's name must say what ran.
template <PagingStrategy requested>
void create_ringfile_ring(const RingSetup& setup) {
  CreateOptions options;
  options.capacity_bytes = setup.ring_bytes;
  options.policy = setup.readers ? WriterPolicy::block : WriterPolicy::overwrite;
  options.max_record_bytes = static_cast<std::uint32_t>(setup.record_bytes);
  options.paging = requested;
  try {
    const Ring ring = Ring::create(setup.path, options, open_options(setup));
    const PagingStrategy chosen = ring.info().paging;
    if (requested != PagingStrategy::automatic && chosen != requested) {
      throw SetupError(setup.path.string() + ": paging strategy " + strategy_name(requested) +
                       " is not supported on this filesystem (the library chose " +
                       strategy_name(chosen) + "); use --dir on another filesystem");
    }
  } catch (const Error& failure) {
    throw SetupError(failure.what());
  }
}

class RingfileWriter final : public RingWriter {
 public:
  RingfileWriter(const Ring& ring, const RingSetup& setup)
      : ring_(ring),
        producer_(ring_, producer_options(setup)),
        start_head_(ring_.head_position()),
        copy_api_(setup.ringfile_copy_api) {}

  // @pre the writer process's only thread.
  bool write(std::span<const std::byte> record) noexcept override {
    if (copy_api_) {
      const ClaimStatus written = producer_.write(record, kClaimTimeout);
      if (written != ClaimStatus::ok) {
        failed_step_ = "write";
        failed_status_ = written;
        return false;
      }
      return true;
    }
    const ClaimResult claim = producer_.claim(record.size(), kClaimTimeout);
    if (!claim) {
      failed_step_ = "claim";
      failed_status_ = claim.status;
      return false;
    }
    std::memcpy(claim.buffer.data(), record.data(), record.size());
    const ClaimStatus committed = producer_.commit();
    if (committed != ClaimStatus::ok) {
      failed_step_ = "commit";
      failed_status_ = committed;
      return false;
    }
    return true;
  }

  std::string error_message() const override {
    return std::string("ringfile ") + failed_step_ + " failed after " +
           std::to_string(producer_.stats().records) + " records: " + to_string(failed_status_) +
           " (" + ring_.info().path.string() + ")";
  }

  // The head moves over frames (40-byte header, payload, 8-byte alignment) and the padding at
  // the end of each lap; with one producer per ring it is where our last record ended.
  std::uint64_t ring_bytes_advanced() const noexcept override {
    return ring_.head_position() - start_head_;
  }

 private:
  static ProducerOptions producer_options(const RingSetup& setup) {
    ProducerOptions options;
    options.checksum = setup.ringfile_checksum;
    return options;
  }

  Ring ring_;
  Producer producer_;
  std::uint64_t start_head_;
  bool copy_api_;
  const char* failed_step_ = "write";
  ClaimStatus failed_status_ = ClaimStatus::ok;
};

// Follows the writer through a ringfile::Consumer, ignoring the harness's published count: the
// ring carries its own head. The consumer holds producers back (block policy with --readers).
class RingfileFollower final : public RingReader {
 public:
  RingfileFollower(const Ring& ring, const RingSetup& setup)
      : ring_(ring),
        consumer_(Consumer::attach(ring_, consumer_options(setup))),
        record_bytes_(setup.record_bytes) {}

  // @pre the reader process's only thread.
  std::size_t poll(const PublishedRecords&, ReadProgress& progress) noexcept override {
    try {
      const PollResult result = consumer_.poll(
          [&](const Record& record) {
            // The library counts the records it skipped by producer sequence, before it hands
            // over the record after them; the stamp must be the one after those.
            const std::uint64_t expected = records_handed_ + consumer_.stats().lost_records;
            if (record.payload.size() == record_bytes_ && record_sequence(record.payload) == expected) {
              ++progress.records_read;
            } else {
              ++progress.records_mismatched;
            }
            ++records_handed_;
          },
          kMaxRecordsPerPoll);
      progress.records_lost = consumer_.stats().lost_records;
      if (result.status != PollStatus::ok && error_.empty()) error_ = consumer_.error_message();
      return result.records;
    } catch (const std::exception& failure) {
      if (error_.empty()) error_ = failure.what();
      return 0;
    }
  }

  std::string error_message() const override { return error_; }

 private:
  static ConsumerOptions consumer_options(const RingSetup& setup) {
    ConsumerOptions options;
    options.start = StartFrom::earliest;
    options.holds_back = true;
    options.verify_checksums = setup.ringfile_checksum;
    return options;
  }

  Ring ring_;
  Consumer consumer_;
  std::uint64_t record_bytes_;
  std::uint64_t records_handed_ = 0;
  std::string error_;
};

std::unique_ptr<RingWriter> open_ringfile_writer(const RingSetup& setup) {
  try {
    return std::make_unique<RingfileWriter>(Ring::open(setup.path, open_options(setup)), setup);
  } catch (const Error& failure) {
    throw SetupError(failure.what());
  }
}

std::unique_ptr<RingReader> open_ringfile_reader(const RingSetup& setup) {
  try {
    return std::make_unique<RingfileFollower>(Ring::open(setup.path, open_options(setup)), setup);
  } catch (const Error& failure) {
    throw SetupError(failure.what());
  }
}

const WriterKindRegistration register_ringfile_zero_range{{
    "ringfile-zero-range",
    "ringfile Producer claim/commit; paging zero_range: FALLOC_FL_ZERO_RANGE ahead of the head, "
    "write-back and drop behind",
    create_ringfile_ring<PagingStrategy::zero_range>,
    open_ringfile_writer,
    open_ringfile_reader,
}};

const WriterKindRegistration register_ringfile_punch_hole{{
    "ringfile-punch-hole",
    "ringfile, paging punch_hole: FALLOC_FL_PUNCH_HOLE then fallocate ahead, drop behind",
    create_ringfile_ring<PagingStrategy::punch_hole>,
    open_ringfile_writer,
    open_ringfile_reader,
}};

const WriterKindRegistration register_ringfile_prefetch{{
    "ringfile-prefetch",
    "ringfile, paging prefetch_only: POSIX_FADV_WILLNEED ahead (old pages read early), drop behind",
    create_ringfile_ring<PagingStrategy::prefetch_only>,
    open_ringfile_writer,
    open_ringfile_reader,
}};

const WriterKindRegistration register_ringfile_none{{
    "ringfile-none",
    "ringfile, paging none: nothing invalidated ahead, nothing dropped behind",
    create_ringfile_ring<PagingStrategy::none>,
    open_ringfile_writer,
    open_ringfile_reader,
}};

const WriterKindRegistration register_ringfile_auto{{
    "ringfile-auto",
    "ringfile, paging automatic (the default): none for rings of at most 512 MiB or on tmpfs, "
    "else zero_range",
    create_ringfile_ring<PagingStrategy::automatic>,
    open_ringfile_writer,
    open_ringfile_reader,
}};

}  // namespace

}  // namespace ringfile::bench::wrap
