// Claim, commit, abort, padding at the wrap, and records large and small over many laps, in one
// process (consumers' cursors and start positions: consumer_cursor_test.cpp). The head is set
// directly where a test needs the ring at a particular place.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>

#include "atomics.hpp"
#include "frames.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "slot_tables.hpp"
#include "support/child_process.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// Moves an empty ring's head (and the producer limit) to `position`, as if that much had been
// written and read already.
void place_head(Ring& ring, std::uint64_t position) {
  auto& header = detail::file_of(ring).header();
  detail::atomic_field(header.head_position.value).store(position);
  detail::atomic_field(header.producer_limit.value).store(position + ring.info().capacity_bytes);
}

detail::FrameRead frame_at(Ring& ring, std::uint64_t position) {
  detail::DataView view(detail::file_of(ring), detail::DataView::Access::read_only);
  const auto& geometry = detail::file_of(ring).geometry();
  std::byte* frame = view.at(geometry.offset_of(position), detail::header_bytes_at(position, geometry));
  return detail::read_frame(frame, position, geometry);
}

}  // namespace

TEST_CASE("records written are read back in order, with their metadata") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  for (const char* text : {"one", "", "three"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  std::vector<Record> records;
  std::vector<std::string> payloads;
  consumer.poll([&](const Record& record) {
    records.push_back(record);
    payloads.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  });
  CHECK(payloads == std::vector<std::string>{"one", "", "three"});
  REQUIRE(records.size() == 3);
  CHECK(records[0].position == 0);
  CHECK(records[1].position == 48);  // 40-byte header + 3 bytes, aligned to 8
  CHECK(records[2].position == 88);
  CHECK(records[0].producer_sequence == 0);
  CHECK(records[2].producer_sequence == 2);
  CHECK(records[2].timestamp_ns >= records[0].timestamp_ns);
  CHECK(consumer.position() == ring.head_position());
  CHECK(consumer.lag().bytes == 0);
}

TEST_CASE("a record's timestamp is the time of its write, or of its commit after a claim") {
  // The record clock keeps within microseconds of CLOCK_REALTIME (record_clock.hpp); a
  // millisecond leaves room for that and for the calls' own time.
  constexpr std::uint64_t kSlackNs = 1'000'000;
  constexpr std::uint64_t kFillingNs = 10 * kSlackNs;
  const auto realtime_ns = [] {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  };
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const std::uint64_t before_write = realtime_ns();
  REQUIRE(producer.write(as_bytes("written")) == ClaimStatus::ok);
  const std::uint64_t after_write = realtime_ns();

  const std::uint64_t before_claim = realtime_ns();
  const ClaimResult claim = producer.claim(6, std::chrono::seconds(10));
  REQUIRE(claim);
  const std::uint64_t after_claim = realtime_ns();
  // The claim's time, which consumers age against the unblock timeout, is the claim's own.
  const detail::OpenClaim published = detail::read_claim(detail::file_of(ring).header().producers[producer.slot()]);
  CHECK(published.open());
  CHECK(published.time_ns + kSlackNs >= before_claim);
  CHECK(published.time_ns <= after_claim + kSlackNs);
  // A caller that takes its time filling the claim: the record is stamped at its commit.
  while (realtime_ns() < after_claim + kFillingNs) {
  }
  std::memcpy(claim.buffer.data(), "filled", 6);
  const std::uint64_t before_commit = realtime_ns();
  REQUIRE(producer.commit() == ClaimStatus::ok);
  const std::uint64_t after_commit = realtime_ns();

  std::vector<Record> records;
  consumer.poll([&](const Record& record) { records.push_back(record); });
  REQUIRE(records.size() == 2);
  CHECK(records[0].timestamp_ns + kSlackNs >= before_write);
  CHECK(records[0].timestamp_ns <= after_write + kSlackNs);
  CHECK(records[1].timestamp_ns + kSlackNs >= before_commit);
  CHECK(records[1].timestamp_ns <= after_commit + kSlackNs);
}

TEST_CASE("producers and consumers attach by the file's path") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(dir / "ring", {.name = "by-path"});
  Producer producer(dir / "ring");
  REQUIRE(producer.write(as_bytes("hello")) == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"hello"});
}

TEST_CASE("a record that does not fit before the end is preceded by padding") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  const std::uint64_t near_end = 10 * capacity - 48;
  place_head(ring, near_end);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::latest});
  CHECK(consumer.position() == near_end);
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes(std::string(100, 'w'))) == ClaimStatus::ok);

  const auto padding = frame_at(ring, near_end);
  CHECK(padding.kind == detail::FrameKind::padding);
  CHECK(padding.stride == 48);
  std::vector<std::uint64_t> positions;
  consumer.poll([&](const Record& record) { positions.push_back(record.position); });
  CHECK(positions == std::vector<std::uint64_t>{10 * capacity});
  CHECK(ring.head_position() == 10 * capacity + format::frame_stride(40 + 100));
}

TEST_CASE("a frame that ends exactly at the end of the data area needs no padding") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  place_head(ring, 3 * capacity - 48);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::latest});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("12345678")) == ClaimStatus::ok);  // 40 + 8 = 48 bytes
  REQUIRE(producer.write(as_bytes("next lap")) == ClaimStatus::ok);
  std::vector<std::uint64_t> positions;
  consumer.poll([&](const Record& record) { positions.push_back(record.position); });
  CHECK(positions == std::vector<std::uint64_t>{3 * capacity - 48, 3 * capacity});
}

TEST_CASE("an uncommitted record is invisible, and holds back those committed after it") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer slow(ring);
  Producer fast(ring);
  ClaimResult open = slow.try_claim(5);
  REQUIRE(open);
  std::memcpy(open.buffer.data(), "first", 5);
  REQUIRE(fast.write(as_bytes("second")) == ClaimStatus::ok);
  CHECK(drain(consumer).empty());
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(1)));
  REQUIRE(slow.commit() == ClaimStatus::ok);
  CHECK(consumer.wait(std::chrono::milliseconds(0)));
  CHECK(drain(consumer) == std::vector<std::string>{"first", "second"});
}

TEST_CASE("abort turns a claim into padding that consumers skip") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.try_claim(300));
  CHECK(producer.abort() == ClaimStatus::ok);
  CHECK(producer.abort() == ClaimStatus::no_claim);
  CHECK(producer.commit() == ClaimStatus::no_claim);
  REQUIRE(producer.write(as_bytes("after")) == ClaimStatus::ok);
  CHECK(frame_at(ring, 0).kind == detail::FrameKind::padding);
  CHECK(drain(consumer) == std::vector<std::string>{"after"});
}

TEST_CASE("a second claim while one is open is refused, and the open one stays usable") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
#ifdef NDEBUG
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  ClaimResult first = producer.try_claim(5);
  REQUIRE(first);
  std::memcpy(first.buffer.data(), "first", 5);
  CHECK(producer.try_claim(8).status == ClaimStatus::claim_open);
  CHECK(producer.claim(8, std::chrono::milliseconds(1)).status == ClaimStatus::claim_open);
  CHECK(producer.write(as_bytes("second")) == ClaimStatus::claim_open);
  const std::string second = "second";
  const std::span<const std::byte> batch[] = {as_bytes(second)};
  const BatchResult refused = producer.write_batch(batch);
  CHECK(refused.status == ClaimStatus::claim_open);
  CHECK(refused.records == 0);
  REQUIRE(producer.commit() == ClaimStatus::ok);
  REQUIRE(producer.write(as_bytes("third")) == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"first", "third"});
#else
  // With assertions on, the misuse stops the process (a child here).
  CHECK(run_forked([&] {
          Producer producer(ring);
          if (producer.try_claim(5)) producer.try_claim(8);
        }) == 128 + SIGABRT);
#endif
}

TEST_CASE("committing part of a claim pads the rest") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  ClaimResult claim = producer.try_claim(1000);
  REQUIRE(claim);
  std::memcpy(claim.buffer.data(), "short", 5);
  REQUIRE(producer.commit(5) == ClaimStatus::ok);
  REQUIRE(producer.write(as_bytes("next")) == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"short", "next"});
  CHECK(frame_at(ring, 48).kind == detail::FrameKind::padding);
}

TEST_CASE("a record of exactly the maximum size fits, one byte more is refused") {
  TempDir dir;
  const std::uint32_t max_record = 10000;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, max_record));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  CHECK(producer.try_claim(max_record + 1).status == ClaimStatus::too_large);
  const std::string largest(max_record, 'm');
  REQUIRE(producer.write(as_bytes(largest)) == ClaimStatus::ok);
  CHECK(producer.write(as_bytes(largest + "x")) == ClaimStatus::too_large);
  const auto seen = drain(consumer);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == largest);
}

TEST_CASE("a claim tells the position its record will have") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  std::vector<std::uint64_t> claimed;
  // Enough records to wrap, so that one claim lands after padding at the end of the data area.
  for (int index = 0; index < 200; ++index) {
    ClaimResult claim = producer.claim(500, std::chrono::seconds(5));
    REQUIRE(claim);
    claimed.push_back(claim.position);
    REQUIRE(producer.commit() == ClaimStatus::ok);
    consumer.poll([&](const Record& record) { CHECK(record.position == claimed.at(record.producer_sequence)); });
  }
  CHECK(consumer.stats().records == 200);
  CHECK(claimed.back() > ring.info().capacity_bytes);
}

namespace {

// Record sizes from `smallest` to `smallest + spread` (exclusive), varied record by record.
struct RecordSizes {
  std::size_t smallest;
  std::size_t spread;
};
// 64 KiB and up: the sizes that reach the file with pwrite.
constexpr RecordSizes kLargeRecords{64 * 1024, 190 * 1024};

// Six laps of a 1 MiB ring, with and without the paging engine, of records of `sizes`.
// `write_next(producer, size, index, sequence)` writes (or aborts) the index-th record,
// numbering what it publishes from `sequence` on; a consumer following in the same thread checks
// every record.
template <typename WriteNext>
void run_records_over_laps(RecordSizes sizes, const ProducerOptions& producer_options, WriteNext write_next) {
  TempDir dir;
  const std::uint64_t capacity = 1 << 20;
  for (const PagingStrategy paging : {PagingStrategy::none, PagingStrategy::punch_hole}) {
    CAPTURE(paging == PagingStrategy::none);
    CreateOptions options = small_ring(capacity, WriterPolicy::block, 256 * 1024);
    options.paging = paging;
    Ring ring = Ring::create(dir / (paging == PagingStrategy::none ? "plain" : "punched"), options);
    Consumer consumer = Consumer::attach(ring, {});
    Producer producer(ring, producer_options);
    SyntheticVerifier verifier;
    std::uint64_t sequence = 0;
    for (std::uint64_t index = 0; ring.head_position() < 6 * capacity; ++index) {
      write_next(producer, sizes.smallest + (index * 7919) % sizes.spread, index, sequence);
      const PollResult polled = consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); });
      REQUIRE(polled.status == PollStatus::ok);  // the payload CRC32C matched
    }
    CHECK(verifier.totals().records == sequence);
    CHECK(verifier.totals().corrupt == 0);
    CHECK(verifier.totals().missing == 0);
    CHECK(consumer.stats().checksum_failures == 0);
  }
}

// Fills the index-th claim and commits it whole or in part, or aborts it.
void fill_claim(Producer& producer, std::size_t size, std::uint64_t index, std::uint64_t& sequence) {
  ClaimResult claim = producer.claim(size, std::chrono::seconds(10));
  REQUIRE(claim.status == ClaimStatus::ok);
  REQUIRE(claim.buffer.size() == size);
  if (index % 5 == 4) {
    fill_synthetic(claim.buffer, 3, sequence + 1000);  // never published
    REQUIRE(producer.abort() == ClaimStatus::ok);
    return;
  }
  const std::size_t used = index % 3 == 2 ? size / 2 : size;
  fill_synthetic(claim.buffer.first(used), 3, sequence++);
  REQUIRE(producer.commit(used) == ClaimStatus::ok);
}

}  // namespace

TEST_CASE("large records written by copy go through the file and arrive intact, over many laps") {
  std::vector<std::byte> record;
  run_records_over_laps(kLargeRecords, {}, [&](Producer& producer, std::size_t size, std::uint64_t, std::uint64_t& sequence) {
    record.resize(size);
    fill_synthetic(record, 3, sequence++);
    REQUIRE(producer.write(record, std::chrono::seconds(10)) == ClaimStatus::ok);
  });
}

TEST_CASE("large claims filled by the caller arrive intact, committed whole or in part, or aborted") {
  run_records_over_laps(kLargeRecords, {}, fill_claim);
}

TEST_CASE("medium claims, filled in a buffer of the producer's and copied in with their checksum, arrive intact") {
  // From 1 KiB with checksums on, a claim's buffer is the producer's own and commit copies it
  // into the frame; without checksums, and below 1 KiB, it is the frame itself. Sizes across both
  // thresholds (1 KiB and 64 KiB), committed whole or in part, or aborted.
  for (const bool checksums : {true, false}) {
    CAPTURE(checksums);
    run_records_over_laps({700, 70 * 1024}, {.compute_checksums = checksums}, fill_claim);
  }
}

TEST_CASE("medium records written by copy, alone or in batches, arrive intact with their checksums") {
  // From 1 KiB, where the CPU folds the CRC32C on 512-bit registers, write() and write_batch()
  // copy a payload into its frame and then checksum it there; below, and on other CPUs, in one
  // pass (copy_with_crc32c). Sizes across the 1 KiB threshold, checksums on and off.
  std::vector<std::byte> record;
  std::vector<std::vector<std::byte>> batch(3);
  for (const bool checksums : {true, false}) {
    CAPTURE(checksums);
    run_records_over_laps({700, 8 * 1024}, {.compute_checksums = checksums},
                          [&](Producer& producer, std::size_t size, std::uint64_t index, std::uint64_t& sequence) {
                            if (index % 2 == 0) {
                              record.resize(size);
                              fill_synthetic(record, 3, sequence++);
                              REQUIRE(producer.write(record, std::chrono::seconds(10)) == ClaimStatus::ok);
                              return;
                            }
                            std::vector<std::span<const std::byte>> spans;
                            for (std::size_t at = 0; at < batch.size(); ++at) {
                              batch[at].resize(std::min<std::size_t>(size / (at + 1) + 1, Producer::kBatchRecordBytes));
                              fill_synthetic(batch[at], 3, sequence++);
                              spans.emplace_back(batch[at]);
                            }
                            REQUIRE(producer.write_batch(spans, std::chrono::seconds(10)).records == batch.size());
                          });
  }
}

TEST_CASE("a reservation left without a view (memory exhausted) is padded over at the next claim, never left a hole") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 16 * 1024), {.view_bytes = 64 * 1024});
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  std::vector<std::byte> record(6000);
  std::uint64_t sequence = 0;
  fill_synthetic(record, 1, sequence++);
  REQUIRE(producer.write(record) == ClaimStatus::ok);  // the first view is mapped
  {
    // A claim of this size is filled in a buffer of the producer's (checksums on): allocated at
    // the first such claim, so here, before the limit below.
    ClaimResult claim = producer.try_claim(record.size());
    REQUIRE(claim.status == ClaimStatus::ok);
    fill_synthetic(claim.buffer, 1, sequence++);
    REQUIRE(producer.commit() == ClaimStatus::ok);
  }
  // No address space for a view: claims go on inside the mapped one, and the first that needs
  // the next view fails. The limit is a view below what is mapped now, because a producer
  // unmaps its view before it maps the next (or extends it in place, which needs more still).
  // Nothing between here and the restore may allocate.
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_AS, &before) == 0);
  long pages = 0;
  {
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    REQUIRE(statm != nullptr);
    REQUIRE(std::fscanf(statm, "%ld", &pages) == 1);
    std::fclose(statm);
  }
  rlimit tight = before;
  tight.rlim_cur = static_cast<rlim_t>(pages) * 4096 - 64 * 1024;
  REQUIRE(::setrlimit(RLIMIT_AS, &tight) == 0);
  ClaimStatus failed = ClaimStatus::ok;
  int failed_errno = 0;
  std::uint64_t claimed_before_failure = 0;
  for (; claimed_before_failure < 64; ++claimed_before_failure) {
    ClaimResult claim = producer.try_claim(record.size());
    if (!claim) {
      failed = claim.status;
      failed_errno = errno;
      break;
    }
    fill_synthetic(claim.buffer, 1, sequence++);
    if (producer.commit() != ClaimStatus::ok) break;
  }
  // Still no address space: the stranded reservation cannot be padded over, and a claim that
  // may wait says so at once instead of waiting for space no consumer can free (it spun until
  // its timeout, forever without one). write() and write_batch() as claim().
  const std::uint64_t waited_before = producer.stats().backpressure_ns;
  errno = 0;
  const ClaimStatus waited = producer.claim(record.size(), std::chrono::seconds(5)).status;
  const int waited_errno = errno;
  errno = 0;
  const ClaimStatus written = producer.write(record, std::chrono::seconds(5));
  const int written_errno = errno;
  const std::span<const std::byte> batch[2] = {std::span(record).first(100), std::span(record).first(100)};
  errno = 0;
  const BatchResult batched = producer.write_batch(batch, std::chrono::seconds(5));
  const int batched_errno = errno;
  REQUIRE(::setrlimit(RLIMIT_AS, &before) == 0);
  REQUIRE(failed == ClaimStatus::io_error);
  CHECK(failed_errno == ENOMEM);
  REQUIRE(claimed_before_failure < 64);
  CHECK(waited == ClaimStatus::io_error);
  CHECK(waited_errno == ENOMEM);
  CHECK(written == ClaimStatus::io_error);
  CHECK(written_errno == ENOMEM);
  CHECK(batched.status == ClaimStatus::io_error);
  CHECK(batched.records == 0);
  CHECK(batched_errno == ENOMEM);
  CHECK(producer.stats().backpressure_ns == waited_before);  // none of them waited for space
  // Memory again: the producer goes on (within the lap), and the consumer, attached before the
  // first record, reads every record with no hole between.
  for (int more = 0; more < 100; ++more) {
    fill_synthetic(record, 1, sequence++);
    REQUIRE(producer.write(record, std::chrono::seconds(10)) == ClaimStatus::ok);
  }
  REQUIRE(ring.head_position() < ring.info().capacity_bytes);
  SyntheticVerifier verifier;
  const PollResult read = consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 1 << 20);
  CHECK(read.status == PollStatus::ok);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.producers().at(1).next_sequence == sequence);
  CHECK(consumer.position() == ring.head_position());
}

TEST_CASE("a handler that returns false leaves its record unread for the next poll") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Consumer consumer = Consumer::attach(ring, {.name = "stopper"});
  Producer producer(ring);
  for (const char* text : {"one", "two", "stop", "four"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  std::vector<std::string> seen;
  const auto until_stop = [&](const Record& record) {
    const std::string text(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    if (text == "stop") return false;
    seen.push_back(text);
    return true;
  };
  const PollResult first = consumer.poll(until_stop);
  CHECK(first.records == 2);
  CHECK(seen == std::vector<std::string>{"one", "two"});
  CHECK(consumer.poll(until_stop).records == 0);  // still in front of the stop
  consumer.detach();
  // The committed cursor stopped there too.
  Consumer again = Consumer::attach(ring, {.name = "stopper"});
  CHECK(drain(again) == std::vector<std::string>{"stop", "four"});
}
