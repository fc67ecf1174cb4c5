// Writer policies: back-pressure under block, lapping under overwrite, and consumers whose
// processes die.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "ringfile/tooling/synthetic.hpp"
#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

TEST_CASE("block: producers stop at a holding consumer and resume when it reads") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  std::uint64_t written = 0;
  while (producer.write(synthetic_payload(1, written, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok) ++written;
  CHECK(producer.try_claim(1000).status == ClaimStatus::would_block);
  CHECK(producer.claim(1000, std::chrono::milliseconds(5)).status == ClaimStatus::timed_out);
  // Never more than one lap ahead of the consumer, and the lap is nearly full.
  CHECK(ring.head_position() <= capacity);
  CHECK(ring.head_position() > capacity - 2 * 1048);

  SyntheticVerifier verifier;
  consumer.poll([&](const Record& record) { verifier.check(record.payload); }, 10);
  CHECK(producer.write(synthetic_payload(1, written++, 1000)) == ClaimStatus::ok);
  consumer.poll([&](const Record& record) { verifier.check(record.payload); });
  CHECK(verifier.totals().records == written);
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.totals().corrupt == 0);
}

TEST_CASE("block: a consumer that does not hold back (a tap) is lapped and reports it") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  Consumer tap = Consumer::attach(ring, {.holds_back = false});
  Producer producer(ring);
  for (std::uint64_t sequence = 0; sequence < 300; ++sequence) {
    REQUIRE(producer.write(synthetic_payload(1, sequence, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
  }
  SyntheticVerifier verifier;
  tap.poll([&](const Record& record) { verifier.check(record.payload); });
  CHECK(tap.stats().lapped_count >= 1);
  CHECK(tap.stats().lost_bytes > 0);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.producers().at(1).next_sequence == 300);  // caught up to the newest record
  CHECK(tap.stats().lost_records == verifier.producers().at(1).first_sequence);
}

TEST_CASE("overwrite: a lapped consumer skips to intact data and counts what it lost") {
  TempDir dir;
  // A power of two, and a capacity that is not (positions split into lap and offset by division).
  for (const std::uint64_t capacity : {64 * 1024, 68 * 1024}) {
    CAPTURE(capacity);
    Ring ring = Ring::create(dir / std::to_string(capacity).c_str(), small_ring(capacity, WriterPolicy::overwrite));
    Consumer consumer = Consumer::attach(ring, {});
    Producer first(ring);
    Producer second(ring);
    SyntheticVerifier verifier;
    const auto read_some = [&](std::size_t count) {
      consumer.poll([&](const Record& record) { verifier.check(record.payload); }, count);
    };
    std::uint64_t written = 0;
    for (int round = 0; round < 3; ++round) {
      for (int index = 0; index < 400; ++index, ++written) {
        // Producers never wait in overwrite mode, however far behind the consumer is.
        REQUIRE(first.write(synthetic_payload(1, written, 500), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
        REQUIRE(second.write(synthetic_payload(2, written, 300), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
      }
      read_some(5);
    }
    read_some(1 << 20);
    const auto& totals = verifier.totals();
    CHECK(totals.corrupt == 0);
    CHECK(totals.duplicates == 0);
    CHECK(consumer.stats().lapped_count >= 2);
    CHECK(totals.missing > 0);
    CHECK(verifier.producers().at(1).next_sequence == written);
    CHECK(verifier.producers().at(2).next_sequence == written);
    // The ring's own loss count (by producer sequence) agrees with what the payloads say: records
    // skipped before the first one seen of each producer, plus the gaps after it.
    const std::uint64_t lost_by_payload = totals.missing + verifier.producers().at(1).first_sequence +
                                          verifier.producers().at(2).first_sequence;
    CHECK(consumer.stats().lost_records == lost_by_payload);
    CHECK(totals.records + consumer.stats().lost_records == 2 * written);
  }
}

TEST_CASE("overwrite: records lapped after a producer's last record read count as lost, once caught up") {
  // Found by a tester: one producer lapped while another went on writing; the first wrote
  // nothing after its lost records, so no jump of its numbers told of them, and lost_records
  // (a definite number) left them out.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::overwrite));
  for (const bool seen_first : {false, true}) {
    CAPTURE(seen_first);
    Consumer consumer = Consumer::attach(ring, {});  // at the head: every producer's numbers known
    Producer finished(ring);
    Producer going_on(ring);
    SyntheticVerifier verifier;
    const auto read = [&](std::size_t count) {
      return consumer.poll([&](const Record& record) { verifier.check(record.payload); }, count).records;
    };
    std::uint64_t written_by_finished = 0;
    const auto write_finished = [&](int count) {
      for (int index = 0; index < count; ++index, ++written_by_finished) {
        REQUIRE(finished.write(synthetic_payload(1, written_by_finished, 500), std::chrono::nanoseconds(0)) ==
                ClaimStatus::ok);
      }
    };
    write_finished(20);
    if (seen_first) REQUIRE(read(5) == 5);
    write_finished(20);
    // Laps of the other producer's records over all of them.
    std::uint64_t written_by_going_on = 0;
    for (; written_by_going_on < 1000; ++written_by_going_on) {
      REQUIRE(going_on.write(synthetic_payload(2, written_by_going_on, 500), std::chrono::nanoseconds(0)) ==
              ClaimStatus::ok);
    }
    while (read(1 << 20) > 0) {
    }
    CHECK(verifier.totals().corrupt == 0);
    CHECK(consumer.stats().lapped_count >= 1);
    CHECK(verifier.totals().records + consumer.stats().lost_records == written_by_finished + written_by_going_on);
  }
}

namespace {

// Fills the ring up to the consumer child, which reads one record and then halts: the ring is
// full only once it has (before that, its one read can free space again after the fill).
void fill_to_the_halted_consumer(Producer& producer, ChildProcess& child, std::uint64_t& written) {
  REQUIRE(producer.write(synthetic_payload(1, written, 1000), std::chrono::seconds(30)) == ClaimStatus::ok);
  ++written;
  wait_until_halted(child);
  while (producer.write(synthetic_payload(1, written, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok) ++written;
}

}  // namespace

TEST_CASE("a dead anonymous consumer stops holding back at once") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity));
  auto child = attached_consumer_child(dir / "ring", "-");
  Producer producer(ring);
  std::uint64_t written = 0;
  fill_to_the_halted_consumer(producer, *child, written);
  CHECK(producer.try_claim(1000).status == ClaimStatus::would_block);
  child->kill_hard();
  // The next claim finds the owner dead (pid gone) and reclaims the slot.
  CHECK(producer.write(synthetic_payload(1, written, 1000), std::chrono::seconds(5)) == ClaimStatus::ok);
  CHECK(ring.consumers().empty());
}

TEST_CASE("a dead named consumer holds back for its grace period, then expires, on return it reports its loss") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  CreateOptions options = small_ring(capacity);
  // Long enough that filling the ring and killing the child surely fit in it, even under a sanitizer.
  options.consumer_grace = std::chrono::milliseconds(3000);
  Ring ring = Ring::create(dir / "ring", options);
  auto child = attached_consumer_child(dir / "ring", "ledger");
  Producer producer(ring);
  std::uint64_t written = 0;
  fill_to_the_halted_consumer(producer, *child, written);
  child->kill_hard();
  // Within the grace period the dead named consumer still holds producers back...
  CHECK(producer.try_claim(1000).status == ClaimStatus::would_block);
  CHECK(ring.consumers().at(0).holds_back);
  // ...and after it, producers move on: not before its last heartbeat plus the grace period.
  const std::uint64_t last_heartbeat = ring.consumers().at(0).heartbeat_ns;
  REQUIRE(producer.write(synthetic_payload(1, written++, 1000), std::chrono::seconds(30)) == ClaimStatus::ok);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  CHECK(static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(now.tv_nsec) >=
        last_heartbeat + 3'000'000'000u);
  for (int index = 0; index < 200; ++index) {
    REQUIRE(producer.write(synthetic_payload(1, written++, 1000), std::chrono::seconds(10)) == ClaimStatus::ok);
  }
  const auto slots = ring.consumers();
  REQUIRE(slots.size() == 1);
  CHECK(slots[0].expired);
  CHECK_FALSE(slots[0].alive);
  CHECK_FALSE(slots[0].holds_back);

  Consumer returned = Consumer::attach(ring, {.name = "ledger"});
  CHECK(returned.stats().lost_bytes > 0);
  // Its cursor was passed while it was away: a lap counted (it stayed 0: found by a tester).
  CHECK(returned.stats().lapped_count == 1);
  SyntheticVerifier verifier;
  returned.poll([&](const Record& record) { verifier.check(record.payload); });
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.producers().at(1).next_sequence == written);
  CHECK(ring.consumers().at(0).holds_back);
}

TEST_CASE("overwrite: a slow consumer lapped by a producer process never sees torn data") {
  TempDir dir;
  const std::uint64_t capacity = 256 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::overwrite, 32 * 1024));
  Consumer consumer = Consumer::attach(ring, {});
  const std::uint64_t records = 30000;
  // Records of 8-16 KiB: a producer running flat out rewrites the ring every 20 or so, often while
  // the consumer is copying one of them.
  ChildProcess producer("produce", {(dir / "ring").string(), "5", std::to_string(records), "8192", "16384"});
  // Be lapped for certain before reading at all.
  while (ring.head_position() < 3 * capacity) {
    REQUIRE_FALSE(producer.ended());  // it writes far more than three laps
    std::this_thread::yield();
  }
  SyntheticVerifier verifier;
  std::uint64_t checksum_work = 0;
  while (verifier.producers().count(5) == 0 || verifier.producers().at(5).next_sequence < records) {
    const PollResult polled = consumer.poll(
        [&](const Record& record) {
          verifier.check(record.payload);
          // Slow on purpose: a second pass over every byte.
          for (const std::byte value : record.payload) checksum_work += static_cast<std::uint8_t>(value);
        },
        4);
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0 && producer.ended()) break;  // nothing more will come: the checks below say what is missing
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(100));
  }
  CHECK(producer.wait() == 0);
  REQUIRE(verifier.producers().count(5) == 1);
  CHECK(verifier.producers().at(5).next_sequence == records);
  MESSAGE("read " << verifier.totals().records << " of " << records << " records, lapped "
                  << consumer.stats().lapped_count << " times (" << checksum_work % 10 << ")");
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().duplicates == 0);
  CHECK(consumer.stats().checksum_failures == 0);
  CHECK(consumer.stats().lapped_count >= 1);
  CHECK(verifier.totals().records + consumer.stats().lost_records == records);
}

TEST_CASE("overwrite: three producer processes lap a slow consumer, which reads or counts lost every record") {
  // The consumer's loss count is by the producer slots' sequence numbers. A hammer of several
  // producers once showed a count above its verifier's gaps (38,533 against 38,389): the count
  // also has the records skipped before the first read of each producer, and, where a slot
  // changed owner, the last records of the earlier one.
  TempDir dir;
  const std::uint64_t capacity = 256 * 1024;
  Ring ring = Ring::create(dir / "ring", small_ring(capacity, WriterPolicy::overwrite, 8 * 1024));
  Consumer consumer = Consumer::attach(ring, {});
  const std::uint64_t records = 20000;
  const std::vector<std::uint64_t> ids = {5, 6, 7};
  std::vector<std::unique_ptr<ChildProcess>> producers;
  for (const std::uint64_t id : ids) {
    producers.push_back(std::make_unique<ChildProcess>(
        "produce", std::vector<std::string>{(dir / "ring").string(), std::to_string(id), std::to_string(records), "512", "4096"}));
  }
  const auto all_ended = [&] {
    return std::all_of(producers.begin(), producers.end(), [](const auto& child) { return child->ended(); });
  };
  // Be lapped for certain before reading at all.
  while (ring.head_position() < 3 * capacity) {
    REQUIRE_FALSE(all_ended());  // they write far more than three laps
    std::this_thread::yield();
  }
  SyntheticVerifier verifier;
  std::map<std::uint16_t, std::uint64_t> slot_next;  // one past the highest sequence read, by producer slot
  std::uint64_t wrong_sequences = 0;
  std::uint64_t checksum_work = 0;
  for (;;) {
    // Asked before the poll: a poll that finds nothing after every producer has ended has read
    // everything there will be.
    const bool ended = all_ended();
    const PollResult polled = consumer.poll(
        [&](const Record& record) {
          verifier.check(record.payload);
          std::uint64_t sent = 0;  // the payload's sequence number (synthetic.hpp: at byte 16)
          if (record.payload.size() >= kSyntheticMinBytes) std::memcpy(&sent, record.payload.data() + 16, sizeof sent);
          // Slot sequences go on across owners: a producer that took the slot of one that had
          // ended starts where that one stopped, after its `records`.
          if (record.producer_sequence < sent || (record.producer_sequence - sent) % records != 0) {
            wrong_sequences += 1;
          }
          slot_next[record.producer_slot] = std::max(slot_next[record.producer_slot], record.producer_sequence + 1);
          for (const std::byte value : record.payload) checksum_work += static_cast<std::uint8_t>(value);
        },
        4);
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records != 0) continue;
    if (ended && consumer.position() == ring.head_position()) break;
    consumer.wait(std::chrono::milliseconds(100));
  }
  for (const auto& producer : producers) CHECK(producer->wait() == 0);
  const auto& totals = verifier.totals();
  std::uint64_t skipped_before_first = 0;
  std::uint64_t newest_read = 0;
  for (const std::uint64_t id : ids) {
    // A producer of which nothing was read (it ran while the consumer had no CPU, and was
    // overwritten whole) is in neither count: no record of it told the consumer it was there.
    if (verifier.producers().count(id) == 0) continue;
    skipped_before_first += verifier.producers().at(id).first_sequence;
    newest_read = std::max(newest_read, verifier.producers().at(id).next_sequence);
  }
  MESSAGE("read " << totals.records << " of " << ids.size() * records << " records, lapped "
                  << consumer.stats().lapped_count << " times (" << checksum_work % 10 << ")");
  CHECK(totals.corrupt == 0);
  CHECK(totals.duplicates == 0);
  CHECK(consumer.stats().checksum_failures == 0);
  CHECK(consumer.stats().lapped_count >= 1);
  CHECK(wrong_sequences == 0);
  // Read to the end: the last record of the producer that wrote last.
  CHECK(newest_read == records);
  // Lost: every sequence number below a slot's newest read that was not read, and, once caught
  // up, those after it (settle_tail_losses): attached at the head before any was written, it
  // knows every slot's numbers, so each record written was read or counted lost.
  std::uint64_t below_newest = 0;
  for (const auto& [slot, next] : slot_next) below_newest += next;
  CHECK(consumer.stats().lost_records >= below_newest - totals.records);
  CHECK(totals.records + consumer.stats().lost_records == ids.size() * records);
  // Of which the payloads tell the records skipped before the first read of each producer and
  // the gaps after it. Where a producer took the slot of one that had ended (it started late),
  // the count has the earlier one's last records too, which the payloads cannot tell: no later
  // record of that producer came.
  CHECK(consumer.stats().lost_records >= totals.missing + skipped_before_first);
}
