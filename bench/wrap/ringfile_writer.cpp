// The ringfile kinds: the library itself, one kind per paging strategy (the way the old lap's
// bytes ahead of the head are invalidated, see lib/include/ringfile/options.hpp), each in two
// flavours: records filled in place (claim, one memcpy into the mapping, commit: the zero-copy
// path) and records copied in with Producer::write() (the `-write` kinds).
//
// The ring is a ringfile::Ring of capacity ring_bytes. Without --readers its policy is
// `overwrite`, so the writer never waits, as the baselines never do; with --readers it is
// `block` and each ring's reader is a ringfile::Consumer that holds the writer back (at the hold
// window, --hold-window), so no record is ever lost and the paging engine may invalidate only
// what the reader has passed.
#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include <ringfile/consumer.hpp>
#include <ringfile/error.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "ringfile/system/page_cache.hpp"
#include "support/byte_size.hpp"
#include "support/paging_names.hpp"
#include "wrap/process_counters.hpp"
#include "wrap/record_stamp.hpp"
#include "wrap/spill_tracker.hpp"
#include "wrap/wrap_options.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

// With block policy a claim waits for the reader; a reader that has not moved for this long
// is stuck, and the writer gives up rather than hang the run.
constexpr std::chrono::seconds kClaimTimeout{30};

OpenOptions open_options(const RingSetup& setup) {
  OpenOptions options;
  options.view_bytes = setup.ringfile_view_bytes;
  return options;
}

// The rings create_ringfile_ring made, which the parent keeps open until the kind's run is over,
// as a process that creates its rings and keeps them: then a ring on disk kept whole counts among
// the rings open when the next one is created, and automatic paging weighs that one against it.
std::vector<Ring>& rings_created() {
  static std::vector<Ring> rings;
  return rings;
}
void release_ringfile_rings() { rings_created().clear(); }

// Creates the ring with `requested` paging and refuses if the filesystem made the library fall
// back to another strategy: a kind's name must say what ran. On tmpfs (the in-memory leg) the
// library chooses, as it would for a user there: `none`.
template <PagingStrategy requested>
std::string create_ringfile_ring(const RingSetup& setup) {
  CreateOptions options;
  options.capacity_bytes = setup.ring_bytes;
  options.policy = setup.readers ? WriterPolicy::block : WriterPolicy::overwrite;
  options.max_record_bytes = static_cast<std::uint32_t>(setup.record_bytes);
  options.paging = setup.on_tmpfs ? PagingStrategy::automatic : requested;
  options.hold_window_bytes = setup.ringfile_hold_window_bytes;
  try {
    const Ring& ring = rings_created().emplace_back(Ring::create(setup.path, options, open_options(setup)));
    const PagingStrategy chosen = ring.info().paging;
    if (!setup.on_tmpfs && requested != PagingStrategy::automatic && chosen != requested) {
      throw programs::RuntimeFailure(setup.path.string() + ": paging strategy " + paging_strategy_name(requested) +
                       " is not supported on this filesystem (the library chose " +
                       paging_strategy_name(chosen) + "); use --dir on another filesystem");
    }
    std::string note = std::string("paging ") + paging_strategy_name(chosen);
    if (setup.readers) {
      const std::uint64_t window = setup.ringfile_hold_window_bytes;
      note += ", hold window " + std::string(window == 0 ? "auto"
                                             : window == kHoldWindowWholeRing
                                                 ? "ring"
                                                 : format_byte_size(window).c_str());
    }
    return note;
  } catch (const Error& failure) {
    throw programs::RuntimeFailure(failure.what());
  }
}

class RingfileWriter final : public RingWriter {
 public:
  RingfileWriter(const Ring& ring, const RingSetup& setup, bool copy_api)
      : ring_(ring),
        producer_(ring_, producer_options(setup)),
        start_head_(ring_.head_position()),
        copy_api_(copy_api),
        measure_waits_(setup.readers) {}

  // @pre the writer process's only thread.
  bool write(std::span<const std::byte> record) noexcept override {
    const std::uint64_t waited_before = producer_.stats().backpressure_ns;
    if (copy_api_) {
      const ClaimStatus written = producer_.write(record, kClaimTimeout);
      if (producer_.stats().backpressure_ns != waited_before) ++waits_;
      if (written != ClaimStatus::ok) return fail("write", written);
      return true;
    }
    // Without readers (overwrite policy) a claim never waits: no clock read on that path.
    const std::uint64_t cpu_before = measure_waits_ ? thread_cpu_ns() : 0;
    const ClaimResult claim = producer_.claim(record.size(), kClaimTimeout);
    if (producer_.stats().backpressure_ns != waited_before) {
      wait_cpu_ns_ += thread_cpu_ns() - cpu_before;
      ++waits_;
    }
    if (!claim) return fail("claim", claim.status);
    std::memcpy(claim.buffer.data(), record.data(), record.size());
    const ClaimStatus committed = producer_.commit();
    if (committed != ClaimStatus::ok) return fail("commit", committed);
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

  // Producer::write() waits and copies in one call: its waiting CPU cannot be told apart.
  WaitTally waits_inside_write() const noexcept override {
    WaitTally tally;
    tally.waited_ns = producer_.stats().backpressure_ns;
    tally.waits = waits_;
    tally.cpu_ns = copy_api_ ? std::nullopt : std::optional<std::uint64_t>(wait_cpu_ns_);
    return tally;
  }

 private:
  static ProducerOptions producer_options(const RingSetup& setup) {
    ProducerOptions options;
    options.compute_checksums = setup.ringfile_checksum;
    return options;
  }

  bool fail(const char* step, ClaimStatus status) noexcept {
    failed_step_ = step;
    failed_status_ = status;
    return false;
  }

  Ring ring_;
  Producer producer_;
  std::uint64_t start_head_;
  bool copy_api_;
  bool measure_waits_;
  std::uint64_t waits_ = 0;
  std::uint64_t wait_cpu_ns_ = 0;
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
        file_(::open(setup.path.c_str(), O_RDONLY | O_CLOEXEC)),
        records_per_poll_(setup.records_per_poll),
        check_(setup.record_bytes, setup.reader_work_passes) {}

  // @pre the reader process's only thread.
  std::size_t poll(const PublishedRecords&, ReadProgress& progress) noexcept override {
    try {
      const PollResult result = consumer_.poll(
          [&](const Record& record) {
            // The library counts the records it skipped by producer sequence, before it hands
            // over the record after them; the stamp must be the one after those.
            const std::uint64_t expected = records_handed_ + consumer_.stats().lost_records;
            if (check_.check(record.payload, expected)) {
              ++progress.records_read;
            } else {
              ++progress.records_mismatched;
            }
            ++records_handed_;
          },
          records_per_poll_);
      progress.records_lost = consumer_.stats().lost_records;
      if (result.status != PollStatus::ok && error_.empty()) error_ = result.error_message;
      if (result.records != 0) {
        sample_consumer_state();
        spills_.observe(consumer_.position(), ring_.paging_state().released_position);
      }
      return result.records;
    } catch (const std::exception& failure) {
      if (error_.empty()) error_ = failure.what();
      return 0;
    }
  }

  void wait(const PublishedRecords&, std::uint64_t, std::chrono::nanoseconds timeout) noexcept override {
    consumer_.wait(timeout);
  }

  // Positions [cursor, head) of the ring, in the file from the data area's start.
  std::optional<UnreadBytes> unread_bytes(const PublishedRecords&) const noexcept override {
    if (!file_.valid()) return std::nullopt;
    const RingInfo& info = ring_.info();
    const std::uint64_t head = ring_.head_position();
    const std::uint64_t cursor = consumer_.position();
    UnreadBytes bytes;
    if (head <= cursor) return bytes;
    bytes.unread = std::min(head - cursor, info.capacity_bytes);
    const std::uint64_t offset = cursor % info.capacity_bytes;
    const std::uint64_t first_part = std::min(bytes.unread, info.capacity_bytes - offset);
    const auto first_cached = system::cached_bytes(file_.get(), info.data_offset + offset, first_part);
    const auto second_cached = system::cached_bytes(file_.get(), info.data_offset, bytes.unread - first_part);
    if (!first_cached || !second_cached) return std::nullopt;
    bytes.cached = *first_cached + *second_cached;
    return bytes;
  }

  void start_counting_spills() noexcept override {
    if (!file_.valid()) return;
    const RingInfo& info = ring_.info();
    try {
      spills_.start(file_.get(), info.data_offset, info.capacity_bytes, consumer_.position(), ring_.head_position());
    } catch (const std::bad_alloc&) {
      // Not counted: the report then shows what was spilled at the resume only.
    }
  }
  std::uint64_t spilled_since_resume() const noexcept override { return spills_.dropped_after_start(); }

  std::optional<PagingSample> paging_sample() const noexcept override {
    PagingSample sample = state_sample_;
    const PagingState state = ring_.paging_state();
    sample.hold_window_bytes = state.hold_window_bytes;
    sample.resident_budget_bytes = state.resident_budget_bytes;
    sample.memory_bytes = state.memory_bytes;
    sample.rings_sharing = state.rings_sharing;
    return sample;
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

  // Whether the producers' engine sees this consumer following (pacing them) or replaying.
  void sample_consumer_state() {
    ++state_sample_.polls;
    for (const ConsumerInfo& info : ring_.consumers()) {
      if (info.slot != consumer_.slot()) continue;
      if (!info.following) ++state_sample_.polls_not_following;
      if (info.replaying) ++state_sample_.polls_replaying;
    }
  }

  Ring ring_;
  Consumer consumer_;
  system::FileDescriptor file_;  // our own descriptor, to ask the page cache what it holds
  std::size_t records_per_poll_;
  RecordCheck check_;
  std::uint64_t records_handed_ = 0;
  PagingSample state_sample_;
  SpillTracker spills_;
  std::string error_;
};

// The ring's history, from the oldest intact record to the head, through a Consumer that
// attaches at `earliest`; no producer runs any more. The first record's stamp sets the sequence
// the others must follow.
HistoryRead read_ringfile_history(const RingSetup& setup, RecordCheck& check) {
  HistoryRead result;
  try {
    const Ring ring = Ring::open(setup.path, open_options(setup));
    ConsumerOptions options;
    options.start = StartFrom::earliest;
    options.verify_checksums = setup.ringfile_checksum;
    Consumer consumer = Consumer::attach(ring, options);
    const std::uint64_t start = consumer.position();
    const std::uint64_t head = ring.head_position();
    std::optional<std::uint64_t> next_sequence;
    const auto handle = [&](const Record& record) {
      const bool stamped = record.payload.size() >= kRecordStampBytes;
      const std::uint64_t expected =
          next_sequence.value_or(stamped ? record_sequence(record.payload) : 0);
      if (check.check(record.payload, expected)) {
        ++result.records_read;
      } else {
        ++result.records_mismatched;
      }
      next_sequence = expected + 1;
    };
    while (consumer.position() < head) {
      const PollResult polled = consumer.poll(handle, setup.records_per_poll);
      if (polled.status != PollStatus::ok) {
        result.error = polled.error_message;
        break;
      }
      if (polled.records == 0) {
        result.error = "replay stopped at position " + std::to_string(consumer.position()) +
                       " before the head at " + std::to_string(head);
        break;
      }
    }
    result.ring_bytes = consumer.position() - start;
  } catch (const std::exception& failure) {
    result.error = failure.what();
  }
  return result;
}

template <bool copy_api>
std::unique_ptr<RingWriter> open_ringfile_writer(const RingSetup& setup) {
  try {
    return std::make_unique<RingfileWriter>(Ring::open(setup.path, open_options(setup)), setup,
                                            copy_api);
  } catch (const Error& failure) {
    throw programs::RuntimeFailure(failure.what());
  }
}

std::unique_ptr<RingReader> open_ringfile_reader(const RingSetup& setup) {
  try {
    return std::make_unique<RingfileFollower>(Ring::open(setup.path, open_options(setup)), setup);
  } catch (const Error& failure) {
    throw programs::RuntimeFailure(failure.what());
  }
}

template <PagingStrategy strategy, bool copy_api>
WriterKind ringfile_kind(std::string_view name, std::string_view summary) {
  return WriterKind{name,
                    summary,
                    create_ringfile_ring<strategy>,
                    open_ringfile_writer<copy_api>,
                    open_ringfile_reader,
                    true,  // block policy: the consumer holds the producer back
                    read_ringfile_history,
                    release_ringfile_rings};
}

}  // namespace

const WriterKind kRingfileZeroRangeKind = ringfile_kind<PagingStrategy::zero_range, false>(
        "ringfile-zero-range",
        "ringfile Producer claim/commit; paging zero_range: FALLOC_FL_ZERO_RANGE ahead of the "
        "head, write-back and drop behind");

const WriterKind kRingfileZeroRangeWriteKind = ringfile_kind<PagingStrategy::zero_range, true>(
        "ringfile-zero-range-write", "ringfile-zero-range, each record with Producer::write()");

const WriterKind kRingfilePunchHoleKind = ringfile_kind<PagingStrategy::punch_hole, false>(
        "ringfile-punch-hole",
        "ringfile, paging punch_hole: FALLOC_FL_PUNCH_HOLE then fallocate ahead, drop behind");

const WriterKind kRingfilePrefetchKind = ringfile_kind<PagingStrategy::prefetch_only, false>(
        "ringfile-prefetch",
        "ringfile, paging prefetch_only: POSIX_FADV_WILLNEED ahead (old pages read early), drop "
        "behind");

const WriterKind kRingfileNoneKind = ringfile_kind<PagingStrategy::none, false>(
    "ringfile-none", "ringfile, paging none: nothing invalidated ahead, nothing dropped behind");

const WriterKind kRingfileAutoKind = ringfile_kind<PagingStrategy::automatic, false>(
        "ringfile-auto",
        "ringfile, paging automatic (the default): none on tmpfs and for rings of at most "
        "512 MiB and a sixteenth of the box's memory, else zero_range");

const WriterKind kRingfileAutoWriteKind = ringfile_kind<PagingStrategy::automatic, true>(
        "ringfile-auto-write", "ringfile-auto, each record with Producer::write()");

}  // namespace ringfile::bench::wrap
