// What a producer publishes in its slot: its open claim, and while it waits for space, since when,
// for which consumer, and its time waited in total.
#include <doctest/doctest.h>

#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "atomics.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "slot_tables.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

TEST_CASE("a producer waiting for a holding consumer says since when and for which one - the wait ends with space") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Consumer idle = Consumer::attach(ring, {.name = "idle"});
  Consumer holder = Consumer::attach(ring, {.name = "holder", .start = StartFrom::latest});
  Producer producer(ring);
  std::vector<std::byte> payload(1000);
  std::uint64_t sequence = 0;
  fill_synthetic(payload, 1, sequence);
  // The wait starts at the write that finds the ring full: a timeout of zero is its first slice.
  const auto before = std::chrono::system_clock::now();
  while (producer.write(payload, std::chrono::nanoseconds(0)) == ClaimStatus::ok) fill_synthetic(payload, 1, ++sequence);
  // 'idle' reads everything; 'holder' nothing: it is the one the producer waits for.
  drain(idle);
  CHECK(ring.producers().at(0).waiting_since_ns == 0);

  // In slices, as the programs wait: each claim times out, the next one goes on waiting.
  std::atomic<std::uint64_t> slices = 0;
  std::thread writer([&] {
    while (producer.write(payload, std::chrono::milliseconds(20)) == ClaimStatus::timed_out) ++slices;
  });
  ProducerInfo waiting;
  auto observed = std::chrono::system_clock::now();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // Read the count first: the slices it counts had all ended when the report was read.
    const std::uint64_t ended = slices;
    waiting = ring.producers().at(0);
    observed = std::chrono::system_clock::now();
    if (waiting.waiting_since_ns != 0 && ended >= 3) break;
  } while (std::chrono::steady_clock::now() < deadline);
  REQUIRE(waiting.waiting_since_ns != 0);
  REQUIRE(slices >= 3);
  CHECK(waiting.waiting_for_consumer == std::optional<std::uint32_t>(holder.slot()));
  CHECK_FALSE(waiting.waiting_for_preparation);
  const auto since = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(waiting.waiting_since_ns)));
  // The start of the first slice, not of the latest one: three slices of 20 ms had ended when the
  // report was read, so a wait that began at the latest slice would be younger than 60 ms.
  // (The report keeps microseconds: hence the 1 ms of slack on the earlier bound.)
  CHECK(since >= before - std::chrono::milliseconds(1));
  CHECK(observed - since >= std::chrono::milliseconds(59));

  drain(holder);
  writer.join();
  const ProducerInfo done = ring.producers().at(0);
  CHECK(done.waiting_since_ns == 0);
  CHECK_FALSE(done.waiting_for_consumer.has_value());
  CHECK(done.waited_ns >= 3 * 20'000'000u);
  CHECK(done.waited_ns == producer.stats().backpressure_ns);
}

TEST_CASE("a producer held back by another producer's claim still open a lap behind says it waits for an open claim") {
  TempDir dir;
  CreateOptions options = small_ring(64 * 1024, WriterPolicy::overwrite);
  options.unblock_timeout = std::chrono::seconds(60);  // the open claim stays live all through the test
  Ring ring = Ring::create(dir / "ring", options);
  Producer slow(ring);
  Producer fast(ring);
  ClaimResult held = slow.claim(100, std::chrono::seconds(1));
  REQUIRE(held);
  fill_synthetic(held.buffer, 1, 0);

  std::vector<std::byte> payload(1000);
  std::uint64_t sequence = 0;
  ClaimStatus written = ClaimStatus::ok;
  std::thread writer([&] {
    // About a lap of records, then one that would land on the open claim: it waits for it.
    for (; sequence < 200 && written == ClaimStatus::ok; ++sequence) {
      fill_synthetic(payload, 2, sequence);
      written = fast.write(payload, std::chrono::seconds(30));
    }
  });
  ProducerInfo waiting;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  do {
    waiting = ring.producers().at(fast.slot());
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (!waiting.waiting_for_open_claim && std::chrono::steady_clock::now() < deadline);
  REQUIRE(waiting.waiting_for_open_claim);
  CHECK(waiting.waiting_since_ns != 0);
  CHECK_FALSE(waiting.waiting_for_consumer.has_value());
  CHECK_FALSE(waiting.waiting_for_preparation);
  CHECK(ring.head_position() + 1024 > 64 * 1024);  // held about a lap after the claim, not before

  REQUIRE(slow.commit() == ClaimStatus::ok);
  writer.join();
  CHECK(written == ClaimStatus::ok);
  CHECK(sequence == 200);
  const ProducerInfo done = ring.producers().at(fast.slot());
  CHECK(done.waiting_since_ns == 0);
  CHECK_FALSE(done.waiting_for_open_claim);
  CHECK(done.waited_ns > 0);
}

TEST_CASE("holding producers at a cursor lowers their limit, or says they had already gone past it") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  Producer producer(ring);
  std::vector<std::byte> payload(1000);
  while (ring.head_position() < capacity + 10'000) REQUIRE(producer.write(payload) == ClaimStatus::ok);
  detail::RingFile& file = detail::file_of(ring);
  const auto limit = [&] { return detail::load_field(file.header().producer_limit.value, std::memory_order_seq_cst); };
  const std::uint64_t head = ring.head_position();
  // As producers leave it with no consumer to wait for: a lap past the head.
  detail::atomic_field(file.header().producer_limit.value).store(head + capacity, std::memory_order_seq_cst);

  // A cursor within a lap of the head, beyond what it keeps before it (a group's span): the limit
  // comes down to a lap after what it keeps, past the head.
  const std::uint64_t cursor = head - capacity + 1000 + file.geometry().group_span;
  CHECK(detail::hold_producers_at(file, cursor) == detail::CursorHold::whole);
  CHECK(limit() == detail::kept_from_cursor(file.geometry(), cursor) + capacity);
  // A limit is only ever lowered here: holding at a later cursor leaves it as it is.
  CHECK(detail::hold_producers_at(file, cursor + 5000) == detail::CursorHold::whole);
  CHECK(limit() == detail::kept_from_cursor(file.geometry(), cursor) + capacity);
  // A cursor among the oldest records: the record is intact, what it keeps before it is not. The
  // limit comes down below the head.
  CHECK(detail::hold_producers_at(file, head - capacity + 8) == detail::CursorHold::record_only);
  CHECK(limit() == detail::kept_from_cursor(file.geometry(), head - capacity + 8) + capacity);
  CHECK(limit() < head);
  // A cursor more than a lap behind the head: producers have reserved past where it may hold
  // them (the caller moves it to the oldest intact record, which raises the limit again).
  CHECK(detail::hold_producers_at(file, head - capacity - 8) == detail::CursorHold::passed);
}

TEST_CASE("a producer's claim reads whole, open while it is, and closed at its end after the commit") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(256 * 1024, WriterPolicy::overwrite));
  Producer producer(ring);
  const format::ProducerSlot& slot = detail::file_of(ring).header().producers[producer.slot()];
  const std::uint64_t largest_stride = detail::file_of(ring).geometry().max_frame_stride;
  constexpr std::uint64_t kRecords = 20000;

  // The writer writes, claims and commits, and aborts, in turn; the reader reads the claim all
  // the while (the owner publishes a claim with a seqlock round and closes it with one store).
  std::atomic<bool> writing = true;
  std::atomic<std::uint64_t> failed_calls = 0;
  std::thread writer([&] {
    std::vector<std::byte> payload(100);
    for (std::uint64_t sequence = 0; sequence < kRecords; ++sequence) {
      fill_synthetic(payload, 1, sequence);
      if (sequence % 3 == 0) {
        if (producer.write(payload) != ClaimStatus::ok) ++failed_calls;
        continue;
      }
      const ClaimResult claim = producer.claim(payload.size(), std::chrono::seconds(10));
      if (!claim) {
        ++failed_calls;
        continue;
      }
      std::memcpy(claim.buffer.data(), payload.data(), payload.size());
      if ((sequence % 3 == 1 ? producer.commit() : producer.abort()) != ClaimStatus::ok) ++failed_calls;
    }
    writing.store(false, std::memory_order_release);
  });
  std::uint64_t reads = 0, open_reads = 0, wrong = 0, given_up = 0;
  std::uint64_t last_start = 0;
  while (writing.load(std::memory_order_acquire) || reads == 0) {
    const detail::OpenClaim claim = detail::read_claim(slot);
    ++reads;
    // read_claim gives up on a slot that stays mid-publication (the writer preempted between its
    // seqlock stores, under load) and reads no claim: all zeros, which no claim of this writer is
    // once it has written (positions only grow).
    if (claim.start == 0 && claim.end == 0 && claim.time_ns == 0 && last_start != 0) {
      ++given_up;
      continue;
    }
    // Claims follow each other: a start never goes back, whether the claim is open or closed.
    if (claim.start < last_start) ++wrong;
    last_start = claim.start;
    if (!claim.open()) {
      if (claim.start != claim.end) ++wrong;  // closed is start == end, nothing else
      continue;
    }
    ++open_reads;
    // An open claim is one record's frames, after padding to the lap's end at most (shorter than
    // the record: it did not fit there), and has its time.
    if (claim.end - claim.start > 2 * largest_stride || claim.time_ns == 0) ++wrong;
  }
  writer.join();
  CHECK(failed_calls == 0);
  CHECK(wrong == 0);
  MESSAGE(reads << " reads of the claim, " << open_reads << " of them open, " << given_up << " given up");

  // At rest: closed at the head (one producer: its last claim ended there), and shown as none.
  const detail::OpenClaim last = detail::read_claim(slot);
  CHECK_FALSE(last.open());
  CHECK(last.start == ring.head_position());
  CHECK(last.end == ring.head_position());
  const ProducerInfo info = ring.producers().at(0);
  CHECK(info.open_claim_start == info.open_claim_end);
  CHECK(info.open_claim_time_ns == 0);
}
