#include "produce_loop.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <vector>

#include "pacer.hpp"
#include "record_reader.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/write_failures.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::producer {
namespace {

// How long one claim waits for space before the loop looks at signals and limits again.
constexpr std::chrono::milliseconds kClaimWait{100};

class StopLimits {
 public:
  explicit StopLimits(const ProducerSettings& settings)
      : settings_(settings), start_(std::chrono::steady_clock::now()) {}

  bool reached(const ProducerStats& stats) const {
    if (settings_.count && stats.records >= *settings_.count) return true;
    if (settings_.byte_limit && stats.bytes >= *settings_.byte_limit) return true;
    return settings_.duration && std::chrono::steady_clock::now() - start_ >= *settings_.duration;
  }

 private:
  const ProducerSettings& settings_;
  std::chrono::steady_clock::time_point start_;
};

// Sizes of synthetic records, uniform over the --record-size range.
class SizeChooser {
 public:
  SizeChooser(programs::SizeRange range, std::uint64_t seed) : range_(range), state_(seed | 1) {}
  std::size_t next() noexcept {
    if (!range_.is_range()) return range_.min_bytes;
    // xorshift64*: cheap, and the sizes only need to be spread, not unpredictable.
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    const std::uint64_t random = state_ * 0x2545F4914F6CDD1Dull;
    return range_.min_bytes + random % (range_.max_bytes - range_.min_bytes + 1);
  }

 private:
  programs::SizeRange range_;
  std::uint64_t state_;
};

// Unique among the processes writing one ring, so that a verifying consumer tells their
// sequences apart: the pid (unique among live processes) and a random part (against pid reuse).
std::uint64_t unique_producer_id() {
  std::random_device random;
  return static_cast<std::uint64_t>(::getpid()) << 32 | random();
}

void publish(ProducerTally& tally, const ProducerStats& stats) {
  tally.records.store(stats.records, std::memory_order_relaxed);
  tally.bytes.store(stats.bytes, std::memory_order_relaxed);
  tally.backpressure_ns.store(stats.backpressure_ns, std::memory_order_relaxed);
}

void show_progress(programs::ProgressLine* progress, ProgressMeter& meter, const ProducerStats& stats) {
  if (progress == nullptr || !progress->due()) return;
  progress->show(meter.line({stats.records, stats.bytes, stats.backpressure_ns}));
}

// errno is read first: it is the failed call's until anything else runs.
[[noreturn]] void claim_failed(const Ring& ring, ClaimStatus status) {
  const int error = errno;
  throw programs::RuntimeFailure(programs::claim_failure(ring, status, error));
}

[[noreturn]] void commit_failed(const Ring& ring, ClaimStatus status) {
  const int error = errno;
  throw programs::RuntimeFailure(programs::commit_failure(ring, status, error));
}

// A claim is padded over when this process stalled past the ring's unblock timeout (stopped,
// swapped out). Nothing was published, so the record is simply written again.
void note_claim_lost(const Ring& ring, bool& noted) {
  if (noted) return;
  noted = true;
  programs::report_error("note: a claim in '" + ring.info().path.string() +
                         "' was padded over after the unblock timeout (this process stalled); writing it again");
}

// Unpaced synthetic records no larger than this go kBatchRecords at a time through write_batch:
// what a record costs the library beyond its bytes (the head's CAS, the claim's publication, the
// timestamp) is then paid once per group, and the loop's own per-record work (limits, tally,
// progress) once per batch. Larger records are filled in place, one claim each (zero copy).
constexpr std::size_t kBatchRecords = 32;
constexpr std::size_t kLargestBatchedRecord = Producer::kBatchRecordBytes;

// The next batch of synthetic records, numbered from `sequence` on, as many as the limits still
// allow: up to the record count, and until the byte limit is reached (as one by one, the last
// record may pass it).
struct SyntheticBatch {
  std::vector<std::byte> storage;
  std::vector<std::span<const std::byte>> records;
  std::size_t next = 0;  // the first record not yet written

  bool done() const noexcept { return next == records.size(); }

  void refill(const ProducerSettings& settings, const ProducerStats& stats, SizeChooser& sizes,
              std::uint64_t producer_id, std::uint64_t sequence) {
    records.clear();
    next = 0;
    const std::size_t most_bytes = settings.record_size.max_bytes;
    if (storage.size() < kBatchRecords * most_bytes) storage.resize(kBatchRecords * most_bytes);
    std::uint64_t bytes = stats.bytes;
    for (std::size_t index = 0; index < kBatchRecords; ++index) {
      if (settings.count && stats.records + index >= *settings.count) break;
      if (settings.byte_limit && bytes >= *settings.byte_limit) break;
      const std::span<std::byte> record{storage.data() + index * most_bytes, sizes.next()};
      fill_synthetic(record, producer_id, sequence + index);
      records.push_back(record);
      bytes += record.size();
    }
  }
};

int produce_synthetic_batches(const ProducerSettings& settings, const Ring& ring, ProducerTally& tally,
                              programs::ProgressLine* progress) {
  Producer producer(ring, {.sync = settings.sync});
  const std::uint64_t producer_id = unique_producer_id();
  SizeChooser sizes(settings.record_size, producer_id);
  StopLimits limits(settings);
  ProgressMeter meter(1);
  bool noted_lost_claim = false;
  SyntheticBatch batch;
  while (!programs::stop_requested()) {
    if (batch.done()) {
      if (limits.reached(producer.stats())) break;
      // Written so far, one sequence number each: the next batch goes on from there.
      batch.refill(settings, producer.stats(), sizes, producer_id, producer.stats().records);
      if (batch.done()) break;
    }
    const BatchResult written =
        producer.write_batch(std::span(batch.records).subspan(batch.next), kClaimWait);
    batch.next += written.records;
    if (written.status == ClaimStatus::claim_lost) {
      note_claim_lost(ring, noted_lost_claim);  // the rest is written again: consumers never saw it
    } else if (written.status != ClaimStatus::ok && written.status != ClaimStatus::timed_out) {
      claim_failed(ring, written.status);
    }
    publish(tally, producer.stats());
    show_progress(progress, meter, producer.stats());
  }
  publish(tally, producer.stats());
  return programs::kExitSuccess;
}

int produce_synthetic(const ProducerSettings& settings, const Ring& ring, ProducerTally& tally,
                      programs::ProgressLine* progress) {
  if (!settings.rate && settings.record_size.max_bytes <= kLargestBatchedRecord) {
    return produce_synthetic_batches(settings, ring, tally, progress);
  }
  Producer producer(ring, {.sync = settings.sync});
  const std::uint64_t producer_id = unique_producer_id();
  SizeChooser sizes(settings.record_size, producer_id);
  Pacer pacer(settings.rate);
  StopLimits limits(settings);
  ProgressMeter meter(1);
  bool noted_lost_claim = false;
  std::uint64_t sequence = 0;
  while (!programs::stop_requested() && !limits.reached(producer.stats())) {
    const std::size_t size = sizes.next();
    if (!pacer.wait_turn(producer.stats().records, producer.stats().bytes)) break;
    ClaimResult claim = producer.claim(size, kClaimWait);
    if (claim.status == ClaimStatus::timed_out) {
      publish(tally, producer.stats());
      show_progress(progress, meter, producer.stats());
      continue;
    }
    if (!claim) claim_failed(ring, claim.status);
    fill_synthetic(claim.buffer, producer_id, sequence);  // in place: zero copy
    const ClaimStatus committed = producer.commit();
    if (committed == ClaimStatus::claim_lost) {
      note_claim_lost(ring, noted_lost_claim);
      continue;  // the same sequence number again: consumers never saw it
    }
    // A record of 64 KiB or more goes into the file with pwrite(), which the kernel may refuse
    // (a full disk): the record is not in the ring, and going on would count it as written.
    if (committed != ClaimStatus::ok) commit_failed(ring, committed);
    ++sequence;
    publish(tally, producer.stats());
    show_progress(progress, meter, producer.stats());
  }
  publish(tally, producer.stats());
  return programs::kExitSuccess;
}

// Writes one record, waiting for space as long as it takes. The first stop signal lets it finish;
// a second one gives up on it.
void write_record(Producer& producer, std::span<const std::byte> record, ProducerTally& tally,
                  bool& noted_lost_claim) {
  bool told_waiting = false;
  for (;;) {
    ClaimResult claim = producer.claim(record.size(), kClaimWait);
    if (claim) {
      if (!record.empty()) std::memcpy(claim.buffer.data(), record.data(), record.size());
      const ClaimStatus committed = producer.commit();
      if (committed == ClaimStatus::ok) return;
      if (committed != ClaimStatus::claim_lost) commit_failed(producer.ring(), committed);
      note_claim_lost(producer.ring(), noted_lost_claim);
      continue;
    }
    if (claim.status != ClaimStatus::timed_out) claim_failed(producer.ring(), claim.status);
    publish(tally, producer.stats());
    const int stops = programs::stop_requests();
    if (stops >= 2) {
      throw programs::RuntimeFailure("stopped while waiting for space in '" + producer.ring().info().path.string() +
                                     "': the last record read was not written; a consumer that holds back "
                                     "producers is not reading (see ringfile-status)");
    }
    if (stops == 1 && !told_waiting) {
      told_waiting = true;
      programs::report_error("waiting for space to write the last record read; interrupt again to drop it");
    }
  }
}

std::string describe_input(const std::string& input) { return input == "-" ? "stdin" : "'" + input + "'"; }

int produce_from_input(const ProducerSettings& settings, const Ring& ring, ProducerTally& tally,
                       programs::ProgressLine* progress) {
  programs::FileDescriptor input = programs::open_input(settings.input, &ring);
  programs::InputStream stream(input.get());
  RecordReader reader(stream, describe_input(settings.input), settings.format, settings.record_size.max_bytes,
                      ring.info().max_record_bytes);
  Producer producer(ring, {.sync = settings.sync});
  StopLimits limits(settings);
  ProgressMeter meter(1);
  bool noted_lost_claim = false;
  while (!programs::stop_requested() && !limits.reached(producer.stats())) {
    std::span<const std::byte> record;
    const RecordReader::Status status = reader.next(record);
    if (status == RecordReader::Status::end) break;
    if (status == RecordReader::Status::record) {
      write_record(producer, record, tally, noted_lost_claim);
      publish(tally, producer.stats());
    }
    show_progress(progress, meter, producer.stats());
  }
  publish(tally, producer.stats());
  return programs::kExitSuccess;
}

}  // namespace

int produce(const ProducerSettings& settings, const Ring& ring, ProducerTally& tally,
            programs::ProgressLine* progress) {
  if (settings.count && *settings.count == 0) return programs::kExitSuccess;  // only create the ring
  return settings.synthetic ? produce_synthetic(settings, ring, tally, progress)
                            : produce_from_input(settings, ring, tally, progress);
}

}  // namespace ringfile::producer
