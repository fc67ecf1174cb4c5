// Producers and consumers as threads of one process: what ThreadSanitizer can see.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "ring_access.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "slot_tables.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

TEST_CASE("threads: 3 producer threads and 2 consumer threads, one Producer or Consumer each") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::block, 2048));
  constexpr std::uint64_t kProducers = 3;
  constexpr std::uint64_t kPerProducer = 4000;

  std::vector<Consumer> consumers;
  consumers.push_back(Consumer::attach(ring, {.name = "threaded"}));
  consumers.push_back(Consumer::attach(ring, {.idle = IdleStrategy::sleep}));
  std::vector<SyntheticVerifier> verifiers(consumers.size());
  // A producer that gives up ends the test with a failed check, not with consumers waiting for
  // records that never come until ctest's timeout.
  std::atomic<std::uint64_t> producers_finished = 0;
  std::atomic<std::uint64_t> producer_failures = 0;
  std::vector<std::thread> threads;
  for (std::size_t index = 0; index < consumers.size(); ++index) {
    threads.emplace_back([&, index] {
      while (verifiers[index].totals().records < kProducers * kPerProducer) {
        // Acquire: pairs with the producers' release below; read before the poll, so that a poll
        // after it reaches everything they committed.
        const bool all_finished = producers_finished.load(std::memory_order_acquire) == kProducers;
        const PollResult polled =
            consumers[index].poll([&](const Record& record) { verifiers[index].check(record.payload); });
        if (polled.status != PollStatus::ok) return;
        if (all_finished && consumers[index].position() >= ring.head_position()) return;
        if (polled.records == 0) consumers[index].wait(std::chrono::milliseconds(50));
      }
    });
  }
  for (std::uint64_t id = 0; id < kProducers; ++id) {
    threads.emplace_back([&, id] {
      Producer producer(ring);
      for (std::uint64_t sequence = 0; sequence < kPerProducer; ++sequence) {
        const std::size_t size = 24 + (sequence * 37 + id * 101) % 1500;
        ClaimStatus committed = ClaimStatus::claim_lost;
        // A claim padded over because this thread stalled past the unblock timeout (a loaded
        // machine under ThreadSanitizer) is written again: the record is not lost.
        while (committed == ClaimStatus::claim_lost) {
          ClaimResult claim = producer.claim(size, std::chrono::seconds(30));
          if (!claim) {
            committed = claim.status;
            break;
          }
          fill_synthetic(claim.buffer, id, sequence);
          committed = producer.commit();
        }
        if (committed != ClaimStatus::ok) {
          producer_failures.fetch_add(1, std::memory_order_relaxed);
          break;
        }
      }
      // Release: pairs with the consumers' acquire above.
      producers_finished.fetch_add(1, std::memory_order_release);
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(producer_failures.load(std::memory_order_relaxed) == 0);
  for (const auto& verifier : verifiers) {
    CHECK(verifier.totals().records == kProducers * kPerProducer);
    CHECK(verifier.totals().missing == 0);
    CHECK(verifier.totals().duplicates == 0);
    CHECK(verifier.totals().corrupt == 0);
    for (std::uint64_t id = 0; id < kProducers; ++id) {
      CHECK(verifier.producers().at(id).next_sequence == kPerProducer);
    }
  }
  CHECK(ring.head_position() > 20 * capacity);
}

// Consumer::wait spins first on the commit word of the frame it waits for, and returns as soon
// as that word commits a frame of the expected lap, without reading the frame (quick_spin): a
// true wait must still mean that the poll after it has something to do.
TEST_CASE("threads: a ping-pong through two rings, every wait that returns true is followed by a poll that moves") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;  // several laps
  Ring ping = Ring::create(dir / "ping", small_ring(capacity));
  Ring pong = Ring::create(dir / "pong", small_ring(capacity));
  constexpr std::uint64_t kRoundTrips = 5000;
  constexpr std::size_t kRecordBytes = 64;
  // One side: receives `kRoundTrips` records from `in`, each answered on `out` (the initiator
  // sends first). Returns the first problem, or "" when every record came in order, whole.
  const auto side = [&](Ring& out, Ring& in, bool initiator) -> std::string {
    Producer producer(out);
    Consumer consumer = Consumer::attach(in, {.start = StartFrom::earliest});
    for (std::uint64_t sequence = 0; sequence < kRoundTrips; ++sequence) {
      if (initiator) {
        const std::vector<std::byte> record = synthetic_payload(0, sequence, kRecordBytes);
        if (producer.write(record, std::chrono::seconds(60)) != ClaimStatus::ok) return "write failed";
      }
      bool received = false;
      std::string problem;
      const auto check = [&](const Record& record) {
        received = true;
        if (!std::ranges::equal(record.payload, synthetic_payload(initiator ? 1 : 0, sequence, kRecordBytes))) {
          problem = "record " + std::to_string(sequence) + " is not the one sent";
        }
      };
      // A wait that returns true is followed by a poll that hands out the record, or steps over
      // the padding at a lap's end (committed before the record after it).
      for (bool woken = false;;) {
        const std::uint64_t before = consumer.position();
        if (consumer.poll(check, 1).records != 0) break;
        if (woken && consumer.position() == before) {
          return "wait returned true before record " + std::to_string(sequence) + ", and the poll after it did nothing";
        }
        woken = consumer.wait(std::chrono::seconds(60));
        if (!woken) return "no record " + std::to_string(sequence) + " in 60 s";
      }
      if (!received) return "no record";
      if (!problem.empty()) return problem;
      if (!initiator) {
        const std::vector<std::byte> answer = synthetic_payload(1, sequence, kRecordBytes);
        if (producer.write(answer, std::chrono::seconds(60)) != ClaimStatus::ok) return "write failed";
      }
    }
    return "";
  };
  std::string echo_problem;
  std::thread echo([&] { echo_problem = side(pong, ping, false); });
  const std::string initiator_problem = side(ping, pong, true);
  echo.join();
  CHECK(initiator_problem == "");
  CHECK(echo_problem == "");
  CHECK(ping.head_position() > 3 * capacity);
}

TEST_CASE("threads: a producer that lost the race for the last space shows no claim while it waits") {
  // Found when the preparation learned to stop at live claims: a producer whose head CAS failed
  // and then found no space left the claim it had published for that attempt in its slot. Read
  // as live, it held the other producers (and every preparation) at its start plus a lap until
  // the unblock timeout, though nothing was ever written there.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
  Consumer consumer = Consumer::attach(ring, {});
  constexpr std::uint64_t kRecordsRead = 1'000'000;
  std::atomic<bool> stop = false;
  std::atomic<std::uint64_t> claims_left_open = 0;
  std::vector<std::thread> threads;
  for (std::uint64_t id = 0; id < 2; ++id) {
    threads.emplace_back([&, id] {
      Producer producer(ring);
      const auto& slot = detail::file_of(ring).header().producers[producer.slot()];
      std::vector<std::byte> payload(48);
      std::uint64_t sequence = 0;
      // Relaxed: a stop flag; the records themselves are published by the ring.
      while (!stop.load(std::memory_order_relaxed)) {
        fill_synthetic(payload, id, sequence);
        const ClaimStatus status = producer.write(payload, std::chrono::nanoseconds(0));
        if (status == ClaimStatus::ok) {
          ++sequence;
        } else if (detail::read_claim(slot).open()) {
          claims_left_open.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  SyntheticVerifier verifier;
  while (verifier.totals().records < kRecordsRead) {
    const PollResult polled = consumer.poll([&](const Record& record) { verifier.check(record.payload); });
    REQUIRE(polled.status == PollStatus::ok);
    // Busy: the producers wait for this consumer, and the ring fills at every round.
    if (polled.records == 0) std::this_thread::yield();
  }
  stop.store(true, std::memory_order_relaxed);
  for (auto& thread : threads) thread.join();
  CHECK(claims_left_open.load() == 0);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
}
