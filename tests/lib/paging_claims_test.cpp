// The paging engine and the claims of live producers: the preparation ahead of the head never
// invalidates the bytes of a claim still being filled a lap behind, a late commit over bytes it
// did invalidate fails, and a producer it holds back behind a claim says it waits for the claim.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include "atomics.hpp"
#include "clock.hpp"
#include "paging.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "slot_tables.hpp"
#include "support/child_process.hpp"
#include "support/eventually.hpp"
#include "support/preparation.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// Producer 7's first synthetic record, 100 bytes, claimed by `holder` and left open, and producer
// 8's records of 1000 bytes written by `other` up to two records short of the claim plus a lap
// (one may follow padding at the lap's end). Returns the claim.
ClaimResult hold_claim_a_lap_behind(const Ring& ring, Producer& holder, Producer& other) {
  ClaimResult claim = holder.claim(100, std::chrono::seconds(10));
  REQUIRE(claim);
  fill_synthetic(claim.buffer, 7, 0);
  const std::uint64_t claim_limit = claim.position + ring.info().capacity_bytes;
  std::vector<std::byte> payload(1000);
  for (std::uint64_t written = 0; ring.head_position() + 4096 <= claim_limit; ++written) {
    fill_synthetic(payload, 8, written);
    REQUIRE(other.write(payload, std::chrono::seconds(30)) == ClaimStatus::ok);
  }
  return claim;
}

// Commits `holder`'s claim and reads from its position on with a tap: its record is there, whole,
// and nothing before the head is lost. Once committed, the claim no longer holds the preparation,
// and the producers' housekeepers would invalidate (or read ahead past, which readers count as
// overwritten) the record before the reader gets to it: the preparation is held meanwhile.
void commit_and_read_back(const Ring& ring, Producer& holder, const ClaimResult& claim) {
  PreparationHeldByInit held(ring);
  REQUIRE(holder.commit() == ClaimStatus::ok);
  Consumer reader = Consumer::attach(ring, {.start_position = claim.position, .holds_back = false});
  SyntheticVerifier verifier;
  const PollResult polled = reader.poll([&](const Record& record) { verifier.check(record.payload); }, 1'000'000);
  held.release();
  CHECK(polled.status == PollStatus::ok);
  CHECK(reader.stats().lost_bytes == 0);
  CHECK(verifier.totals().corrupt == 0);
  REQUIRE(verifier.producers().count(7) == 1);
  CHECK(verifier.producers().at(7).records == 1);
}

}  // namespace

TEST_CASE("a live producer's claim a lap behind the others is never invalidated by the preparation ahead of them") {
  // Found in review: preparation runs up to an eighth of the ring past the head, and the head up
  // to the oldest live claim plus a lap, so it zeroed the pages of a claim younger than the
  // unblock timeout that the others were about to lap; its commit then published a record whose
  // payload was gone (a checksum mismatch for every consumer).
  TempDir dir;
  // The claim stays live throughout (ten minutes' unblock timeout).
  std::optional<Ring> zeroing = zeroing_ring(dir / "ring", 1 << 20, WriterPolicy::overwrite, 1024, std::chrono::minutes(10));
  if (!zeroing) return;
  Ring& ring = *zeroing;
  Producer holder(ring);
  Producer other(ring);
  const ClaimResult claim = hold_claim_a_lap_behind(ring, holder, other);
  const std::uint64_t claim_limit = claim.position + ring.info().capacity_bytes;
  // The preparation asked to run a chunk past the claim: it stops at the claim's page.
  auto& header = detail::file_of(ring).header();
  detail::Pager pager(detail::file_of(ring));
  SUBCASE("asked by a producer") {}
  SUBCASE("redoing a dead preparer's range that reaches past the claim (forged)") {
    // Whole pages, less than a lap: it could have been a range, but for the claim. The lock
    // taken in a dead process's name, as it would be left: the next preparer takes it over.
    take_preparation_lock(ring, pid_of_ended_process() << 32 | 1);
    detail::atomic_field(header.preparation.preparing_end).store(claim_limit + 16 * format::kPageBytes);
  }
  pager.prepare_until(claim_limit + pager.ahead_bytes());
  CHECK(detail::atomic_field(header.prepared_position.value).load() <= claim_limit);

  commit_and_read_back(ring, holder, claim);
}

TEST_CASE("a live producer's claim that outlived the unblock timeout and was prepared past: its late commit fails") {
  // From the review of ed84459: the preparation stops a lap past a claim being filled only while
  // the claim is younger than the unblock timeout. Past it, it zeroed the claim's bytes while the
  // head was still short of a lap on, and the late commit, which asked the head alone, published
  // the record over zeros and returned ok, for a record every consumer counts lost.
  TempDir dir;
  const auto unblock_timeout = std::chrono::milliseconds(20);
  std::optional<Ring> zeroing = zeroing_ring(dir / "ring", 1 << 20, WriterPolicy::overwrite, 1024, unblock_timeout);
  if (!zeroing) return;
  Ring& ring = *zeroing;
  Producer holder(ring);
  Producer other(ring);
  const ClaimResult claim = hold_claim_a_lap_behind(ring, holder, other);
  const std::uint64_t claim_limit = claim.position + ring.info().capacity_bytes;
  auto& header = detail::file_of(ring).header();
  const detail::OpenClaim published = detail::read_claim(header.producers[holder.slot()]);
  REQUIRE(published.start == claim.position);
  const auto timeout_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(unblock_timeout).count());
  while (!published.outlived(detail::realtime_ns(), timeout_ns)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The claim no longer holds the preparation: it runs on past the claim's lap (here, or in a
  // housekeeper), and the head stays short of it.
  detail::Pager pager(detail::file_of(ring));
  auto prepared = detail::atomic_field(header.prepared_position.value);
  REQUIRE(eventually([&] {
    pager.prepare_until(claim_limit + pager.ahead_bytes());
    return prepared.load() > claim_limit;
  }));
  REQUIRE(ring.head_position() <= claim_limit);

  CHECK(holder.commit() == ClaimStatus::claim_lost);
  CHECK(holder.stats().records == 0);
  // Everything still in the ring reads intact, and none of it is the late producer's.
  Consumer replay = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = false});
  SyntheticVerifier kept;
  const PollResult replayed = replay.poll([&](const Record& record) { kept.check(record.payload); }, 1'000'000);
  CHECK(replayed.status == PollStatus::ok);
  CHECK(replayed.records > 0);
  CHECK(kept.totals().corrupt == 0);
  CHECK(kept.producers().count(7) == 0);
}

TEST_CASE("a producer that the preparation keeps behind another's claim shows it waits for that claim") {
  // The preparation stops a lap past a claim being filled, rounded down to a page, and the head
  // at the claim plus a lap: a producer whose record ends between the two waited for the
  // preparation, and status said so, where it waits for the claim.
  TempDir dir;
  std::optional<Ring> zeroing = zeroing_ring(dir / "ring", 1 << 20, WriterPolicy::overwrite, 1024, std::chrono::minutes(10));
  if (!zeroing) return;
  Ring& ring = *zeroing;
  Producer other(ring);
  std::vector<std::byte> payload(1000);
  std::uint64_t written = 0;
  // The claim most of a page past a page boundary, so that every record crossing the claim's lap
  // below it ends between the preparation's bound and the head's.
  while (ring.head_position() < 3000) {
    fill_synthetic(payload, 8, written++);
    REQUIRE(other.write(payload, std::chrono::seconds(30)) == ClaimStatus::ok);
  }
  Producer holder(ring);
  ClaimResult claim = holder.claim(100, std::chrono::seconds(10));
  REQUIRE(claim);
  REQUIRE(claim.position % format::kPageBytes >= 2048);
  fill_synthetic(claim.buffer, 7, 0);
  const std::uint64_t page_below_limit = page_below_claim_limit(ring, claim.position);
  while (ring.head_position() + 1100 <= page_below_limit) {
    fill_synthetic(payload, 8, written++);
    REQUIRE(other.write(payload, std::chrono::seconds(30)) == ClaimStatus::ok);
  }
  // Prepared up to that page (by a housekeeper, or here), so that no record below it waits.
  detail::Pager pager(detail::file_of(ring));
  auto prepared = detail::atomic_field(detail::file_of(ring).header().prepared_position.value);
  REQUIRE(eventually([&] {
    pager.prepare_until(page_below_limit);
    return prepared.load() >= page_below_limit;
  }));
  // Three more records: one of them crosses the page below the claim's limit and waits.
  std::atomic<int> failed_writes = 0;
  std::thread writer([&] {
    for (int record = 0; record < 3; ++record) {
      fill_synthetic(payload, 8, written++);
      if (other.write(payload, std::chrono::minutes(5)) != ClaimStatus::ok) failed_writes += 1;
    }
  });
  const auto waiting = [&] {
    for (const ProducerInfo& producer : ring.producers()) {
      if (producer.slot == other.slot() && producer.waiting_since_ns != 0) return producer;
    }
    return ProducerInfo{};
  };
  ProducerInfo shown;
  REQUIRE(eventually([&] { return (shown = waiting()).waiting_since_ns != 0; }));
  CHECK(shown.waiting_for_open_claim);
  CHECK_FALSE(shown.waiting_for_preparation);
  REQUIRE(holder.commit() == ClaimStatus::ok);
  writer.join();
  CHECK(failed_writes == 0);
}

TEST_CASE("reading ahead (prefetch_only) stops a lap past a live claim too: the claim's commit stands, its record is read") {
  // Found in review: reading ahead destroys nothing, and was not held a lap behind live claims.
  // Its frontier is where consumers count what lies a lap behind as overwritten, though, and
  // where a producer's commit takes its claim for passed: once every commit asked, a claim
  // younger than the unblock timeout failed with claim_lost in such a ring, and before, its
  // record was committed where consumers counted it lost.
  TempDir dir;
  CreateOptions options = small_ring(1 << 20, WriterPolicy::overwrite, 1024);
  options.paging = PagingStrategy::prefetch_only;
  Ring ring = Ring::create(dir / "ring", options);
  REQUIRE(ring.info().paging == PagingStrategy::prefetch_only);
  Producer holder(ring);
  Producer other(ring);
  const ClaimResult claim = hold_claim_a_lap_behind(ring, holder, other);
  const std::uint64_t claim_limit = claim.position + ring.info().capacity_bytes;
  detail::Pager pager(detail::file_of(ring));
  pager.prepare_until(claim_limit + pager.ahead_bytes());
  CHECK(detail::atomic_field(detail::file_of(ring).header().preparation.preparing_end).load() <= claim_limit);

  commit_and_read_back(ring, holder, claim);
}
