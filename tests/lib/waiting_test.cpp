// Waiting costs almost nothing: a producer held back (by a following consumer, or by a preparation
// another process holds) and a consumer waiting for records sleep on futexes once they have spun
// briefly, instead of taking the CPU from the process they wait for. Measured as this process's
// CPU time (every thread, the producer's housekeeper included) over the wall time of the wait.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <chrono>
#include <vector>

#include "atomics.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "support/preparation.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

constexpr auto kWait = std::chrono::milliseconds(1500);
constexpr double kMostCpuShare = 0.05;  // the bound: 5% of a CPU

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& time) { return static_cast<double>(time.tv_sec) + time.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// The share of a CPU this process used while `wait` ran.
template <class Wait>
double cpu_share_while(Wait&& wait) {
  const double cpu_before = cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  wait();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  return (cpu_seconds() - cpu_before) / wall;
}

Ring engine_ring(const TempDir& dir) {
  CreateOptions options = small_ring(16 << 20, WriterPolicy::block, 64 * 1024);
  options.paging = PagingStrategy::punch_hole;
  // A small budget, so that the hold window is well inside the ring.
  return Ring::create(dir / "ring", options, {.view_bytes = 256 * 1024, .resident_budget_bytes = 4 << 20});
}

}  // namespace

TEST_CASE("waiting: a producer held back by a following consumer, and a consumer waiting for records, use at most 5% of a CPU") {
  TempDir dir;
  Ring ring = engine_ring(dir);
  REQUIRE(ring.info().paging == PagingStrategy::punch_hole);
  Consumer follower = Consumer::attach(ring, {});  // holds back, never reads
  Producer producer(ring);
  std::vector<std::byte> record(8000);
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + record.size());
  // Claims turned into padding move the head as records would, up to the end of the window.
  const std::uint64_t hold_window = ring.paging_state().hold_window_bytes;
  REQUIRE(hold_window < ring.info().capacity_bytes);
  while (ring.head_position() + stride <= hold_window) {
    REQUIRE(producer.claim(record.size(), std::chrono::seconds(30)).status == ClaimStatus::ok);
    producer.abort();
  }
  REQUIRE(ring.consumers().at(0).following);
  const double producer_share = cpu_share_while([&] {
    CHECK(producer.claim(record.size(), kWait).status == ClaimStatus::timed_out);
  });
  MESSAGE("producer waiting at the hold window: " << producer_share * 100 << "% of a CPU");
  CHECK(producer_share <= kMostCpuShare);

  // Nothing arrives while the producer is held back: a consumer at the head waits.
  Consumer waiting = Consumer::attach(ring, {.start = StartFrom::latest, .holds_back = false});
  const double consumer_share = cpu_share_while([&] { CHECK(!waiting.wait(kWait)); });
  MESSAGE("consumer waiting for records: " << consumer_share * 100 << "% of a CPU");
  CHECK(consumer_share <= kMostCpuShare);
}

TEST_CASE("waiting: a producer whose next bytes another live process is preparing uses at most 5% of a CPU") {
  TempDir dir;
  Ring ring = engine_ring(dir);
  Producer producer(ring);
  std::vector<std::byte> record(8000);
  auto& header = detail::file_of(ring).header();
  // The prepared frontier stands still, and the producer waits for it once it gets there.
  PreparationHeldByInit held(ring);
  const std::uint64_t prepared = detail::atomic_field(header.prepared_position.value).load();
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + record.size());
  while (ring.head_position() + stride <= prepared) {
    REQUIRE(producer.claim(record.size(), std::chrono::seconds(30)).status == ClaimStatus::ok);
    producer.abort();
  }
  const double share = cpu_share_while([&] {
    CHECK(producer.claim(record.size(), kWait).status == ClaimStatus::timed_out);
  });
  MESSAGE("producer waiting for preparation: " << share * 100 << "% of a CPU");
  CHECK(share <= kMostCpuShare);
  // The lock is free again: preparation resumes and so does the producer.
  held.release();
  CHECK(producer.claim(record.size(), std::chrono::seconds(30)).status == ClaimStatus::ok);
  producer.abort();
}

TEST_CASE("waiting: a producer held back by another producer's open claim uses at most 5% of a CPU") {
  // Its commit wakes nobody, so the producer behind it looks again on its own; each look scans
  // the producer slots and reads the holder's /proc entry.
  TempDir dir;
  CreateOptions options = small_ring(1 << 20, WriterPolicy::overwrite, 1024);
  options.unblock_timeout = std::chrono::minutes(10);  // the claim holds throughout
  Ring ring = Ring::create(dir / "ring", options);
  Producer holder(ring);
  const ClaimResult claim = holder.claim(100, std::chrono::seconds(10));
  REQUIRE(claim);
  Producer producer(ring);
  std::vector<std::byte> record(1000);
  // Up to the page below the claim plus a lap (where the preparation stops for it): the next
  // record, whatever padding runs it on to a line, ends past that page and waits for the claim.
  const std::uint64_t page_below_limit = page_below_claim_limit(ring, claim.position);
  const std::uint64_t most_stride = format::align_up(
      format::frame_stride(format::kRecordHeaderBytes + record.size()), format::kCacheLineBytes);
  while (ring.head_position() + most_stride <= page_below_limit) {
    REQUIRE(producer.write(record, std::chrono::seconds(30)) == ClaimStatus::ok);
  }
  const double share = cpu_share_while([&] {
    CHECK(producer.claim(record.size(), kWait).status == ClaimStatus::timed_out);
  });
  MESSAGE("producer waiting for another's claim: " << share * 100 << "% of a CPU");
  CHECK(share <= kMostCpuShare);
  CHECK(holder.commit() == ClaimStatus::ok);
  CHECK(producer.claim(record.size(), std::chrono::seconds(30)).status == ClaimStatus::ok);
  producer.abort();
}
