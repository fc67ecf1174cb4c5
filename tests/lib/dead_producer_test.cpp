// A producer that dies, or hangs, between claim and commit never stalls consumers for long, and
// every other producer's records arrive intact and in order.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "atomics.hpp"
#include "clock.hpp"
#include "data_view.hpp"
#include "frames.hpp"
#include "ring_file.hpp"
#include "slot_tables.hpp"
#include "ring_access.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// Reads until `id` has delivered `count` records or `limit` passes; returns the verifier.
SyntheticVerifier read_until(Consumer& consumer, std::map<std::uint64_t, std::uint64_t> wanted,
                             std::chrono::milliseconds limit) {
  SyntheticVerifier verifier;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const auto done = [&] {
    for (const auto& [id, count] : wanted) {
      const auto found = verifier.producers().find(id);
      if (found == verifier.producers().end() || found->second.next_sequence < count) return false;
    }
    return true;
  };
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    const PollResult polled = consumer.poll([&](const Record& record) { verifier.check(record.payload); });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(50));
  }
  return verifier;
}

// A producer stalled in the middle of copying a payload, where no caller's code runs: the payload
// lies in a page that cannot be read, and the fault handler holds the copying thread until the
// test lets it go on (then makes the page readable, and the copy resumes where it faulted).
class CopyStall {
 public:
  static constexpr std::size_t kPageBytes = 4096;
  static inline std::atomic<bool> stalled{false};
  static inline std::atomic<bool> released{false};
  static inline std::byte* page = nullptr;

  CopyStall() {
    void* mapped = ::mmap(nullptr, kPageBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(mapped != MAP_FAILED);
    page = static_cast<std::byte*>(mapped);
    // Relaxed, all: the flags carry nothing but themselves (the payload bytes are in place before the
    // thread that copies them starts, and the page's protection is the kernel's).
    stalled.store(false, std::memory_order_relaxed);
    released.store(false, std::memory_order_relaxed);
    struct sigaction action {};
    action.sa_sigaction = &hold_faulting_thread;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    REQUIRE(::sigaction(SIGSEGV, &action, &previous_) == 0);
  }
  ~CopyStall() {
    ::sigaction(SIGSEGV, &previous_, nullptr);
    ::munmap(page, kPageBytes);
  }
  CopyStall(const CopyStall&) = delete;
  CopyStall& operator=(const CopyStall&) = delete;

  // After the payload bytes are written: the next read of the page stalls.
  void arm() { REQUIRE(::mprotect(page, kPageBytes, PROT_NONE) == 0); }
  bool wait_for_stall() {
    const auto guard = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // a guard, not a wait
    while (!stalled.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < guard) {
      std::this_thread::yield();
    }
    return stalled.load(std::memory_order_relaxed);
  }
  void release() { released.store(true, std::memory_order_relaxed); }

 private:
  static void hold_faulting_thread(int, siginfo_t* info, void*) {
    const auto* address = static_cast<const std::byte*>(info->si_addr);
    if (address < page || address >= page + kPageBytes) {
      ::signal(SIGSEGV, SIG_DFL);  // a real fault: it happens again on return, and ends the process
      return;
    }
    stalled.store(true, std::memory_order_relaxed);
    while (!released.load(std::memory_order_relaxed)) ::sched_yield();
    ::mprotect(page, kPageBytes, PROT_READ);
  }

  struct sigaction previous_ {};
};

// A ring of 1 MiB whose consumers pad a live producer's claim over 50 ms after it was made.
CreateOptions padded_over_soon() {
  CreateOptions options = small_ring(1 << 20, WriterPolicy::block, 128 * 1024);
  options.unblock_timeout = std::chrono::milliseconds(50);
  return options;
}

// Another producer (synthetic id 8) writes records of 1000 B, and `consumer` reads them into
// `live`, until the head is a lap past `claimed_at`'s next lap: a claim there that outlived the
// unblock timeout is padded over by the consumer on the way, and newer records lie where it was.
// Returns how many records it wrote.
std::uint64_t write_a_lap_past(const Ring& ring, std::uint64_t claimed_at, Consumer& consumer, SyntheticVerifier& live) {
  Producer other(ring);
  std::vector<std::byte> payload(1000);
  std::uint64_t written = 0;
  const std::uint64_t past = claimed_at + 2 * ring.info().capacity_bytes;
  for (int round = 0; round < 100000 && ring.head_position() < past; ++round) {
    fill_synthetic(payload, 8, written);
    if (other.write(payload, std::chrono::nanoseconds(0)) == ClaimStatus::ok) {
      ++written;
      continue;
    }
    const PollResult polled = consumer.poll([&](const Record& record) { live.check(record.payload); });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(10));
  }
  return written;
}

}  // namespace

TEST_CASE("a producer SIGKILLed between claim and commit: consumers move past it long before the unblock timeout") {
  TempDir dir;
  CreateOptions options = small_ring(1 << 20);
  options.unblock_timeout = std::chrono::minutes(10);  // only death detection can free the claim
  Ring ring = Ring::create(dir / "ring", options);
  Consumer consumer = Consumer::attach(ring, {});

  ChildProcess doomed("claim-hang", {(dir / "ring").string(), "7", "100"});
  expect_line(doomed, "claimed");
  // Small enough to fit in the ring while nobody reads: the consumer is held at the claim.
  ChildProcess survivor("produce", {(dir / "ring").string(), "8", "400", "24", "3000"});
  expect_line(survivor, "done");
  CHECK(survivor.wait() == 0);

  // Everything before the open claim is readable; nothing after it until it is resolved.
  SyntheticVerifier before = read_until(consumer, {{7, 100}}, std::chrono::seconds(10));
  CHECK(before.producers().at(7).next_sequence == 100);
  CHECK(before.producers().count(8) == 0);

  doomed.kill_hard();
  const auto killed_at = std::chrono::steady_clock::now();
  SyntheticVerifier after = read_until(consumer, {{8, 400}}, std::chrono::seconds(30));
  const auto waited = std::chrono::steady_clock::now() - killed_at;
  CHECK(after.producers().at(8).first_sequence == 0);
  CHECK(after.producers().at(8).next_sequence == 400);
  CHECK(after.producers().count(7) == 0);  // the dead claim became padding, not a record
  CHECK(after.totals().missing == 0);
  CHECK(after.totals().corrupt == 0);
  CHECK(after.totals().duplicates == 0);
  // Read within read_until's 30 s, where only the timeout (10 min) could free a live producer's
  // claim: death was detected. How soon is a figure, not a bound (CI machines stall).
  MESSAGE("consumer moved past the dead producer's claim after "
          << std::chrono::duration_cast<std::chrono::milliseconds>(waited).count() << " ms");

  // A new producer can take over the dead one's slot.
  Producer replacement(ring);
  CHECK(replacement.write(as_bytes("alive")) == ClaimStatus::ok);
}

TEST_CASE("a live producer holding a claim past the unblock timeout is padded over, its late commit fails") {
  TempDir dir;
  CreateOptions options = small_ring(1 << 20);
  options.unblock_timeout = std::chrono::milliseconds(300);
  Ring ring = Ring::create(dir / "ring", options);
  Consumer consumer = Consumer::attach(ring, {});

  ChildProcess stuck("claim-hang", {(dir / "ring").string(), "7", "10"});
  expect_line(stuck, "claimed");
  ChildProcess other("produce", {(dir / "ring").string(), "8", "500", "24", "3000"});
  expect_line(other, "done");

  SyntheticVerifier verifier = read_until(consumer, {{7, 10}, {8, 500}}, std::chrono::seconds(30));
  CHECK(verifier.producers().at(7).next_sequence == 10);
  CHECK(verifier.producers().at(8).next_sequence == 500);
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.totals().corrupt == 0);

  stuck.write_line("commit");
  expect_line(stuck, "commit claim_lost");
  CHECK(stuck.wait() == 0);
  // The late commit changed nothing: no record of the stuck producer appears.
  CHECK(drain(consumer).empty());
  CHECK(ring.producers().empty());
}

TEST_CASE("a producer killed in the middle of publishing a claim wedges nobody") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  ChildProcess doomed("claim-hang", {(dir / "ring").string(), "7", "5"});
  expect_line(doomed, "claimed");
  doomed.kill_hard();
  // Another slot as a producer leaves it when killed between the two halves of the claim
  // seqlock (before it could move the head): sequence odd, owner dead.
  auto& torn = detail::file_of(ring).header().producers[60];
  torn.owner_pid = static_cast<std::uint64_t>(doomed.pid());
  torn.claim_sequence = 7;
  torn.claim_start = 123;
  torn.claim_end = 1ull << 40;
  detail::atomic_field(torn.state).store(static_cast<std::uint32_t>(format::ProducerState::active));

  // The consumer scans every slot, the torn one included, to resolve the dead open claim.
  ChildProcess survivor("produce", {(dir / "ring").string(), "8", "100", "24", "300"});
  expect_line(survivor, "done");
  SyntheticVerifier verifier = read_until(consumer, {{7, 5}, {8, 100}}, std::chrono::seconds(10));
  CHECK(verifier.producers().at(7).next_sequence == 5);
  CHECK(verifier.producers().at(8).next_sequence == 100);
  CHECK(verifier.totals().missing == 0);
  // A new producer scans the table too, and may take the torn slot over.
  Producer replacement(ring);
  REQUIRE(replacement.write(as_bytes("after")) == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"after"});
}

namespace {

// Leaves slot `index` as a producer killed with claim [start, end) open.
void leave_dead_claim(Ring& ring, std::uint32_t index, std::uint64_t start, std::uint64_t end) {
  auto& slot = detail::file_of(ring).header().producers[index];
  slot.owner_pid = pid_of_ended_process();
  slot.owner_start_time = 1;
  detail::publish_claim(slot, {start, end, detail::realtime_ns()});
  detail::atomic_field(slot.state).store(static_cast<std::uint32_t>(format::ProducerState::active));
}

// After one record by `producer`: slot 3 as a producer killed while filling the next 256 bytes,
// which it had reserved (the head moved past them). Returns where they start.
std::uint64_t leave_reserved_dead_claim(Ring& ring, Producer& producer) {
  REQUIRE(producer.write(as_bytes("before")) == ClaimStatus::ok);
  const std::uint64_t start = ring.head_position();
  leave_dead_claim(ring, 3, start, start + 256);
  detail::atomic_field(detail::file_of(ring).header().head_position.value).store(start + 256);
  return start;
}

// A 1 MiB ring, a live producer, and a dead producer's claim on reserved space at `start` (slot 3).
struct RingWithDeadClaim {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  detail::RingFile& file = detail::file_of(ring);
  const std::uint64_t capacity = file.geometry().capacity;
  Producer producer{ring};
  const std::uint64_t start = leave_reserved_dead_claim(ring, producer);
};

}  // namespace

TEST_CASE("a claim left by a producer killed before it moved the head never hides the next producer's record") {
  // Found by the fault suite: such a claim covers space another producer reserves next. When
  // that producer died too, padding to the stale claim's end swallowed the records after it.
  TempDir dir;
  CreateOptions options = small_ring(1 << 20);
  options.unblock_timeout = std::chrono::minutes(10);  // only death detection may pad
  Ring ring = Ring::create(dir / "ring", options);
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("before")) == ClaimStatus::ok);
  const std::uint64_t position = ring.head_position();
  leave_dead_claim(ring, 3, position, position + 4096);  // published, head never moved
  leave_dead_claim(ring, 4, position, position + 64);    // the real owner of [position, +64)
  detail::atomic_field(detail::file_of(ring).header().head_position.value).store(position + 64);
  REQUIRE(producer.write(as_bytes("after")) == ClaimStatus::ok);

  std::vector<std::string> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seen.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    for (auto& payload : drain(consumer)) seen.push_back(payload);
    consumer.wait(std::chrono::milliseconds(20));
  }
  CHECK(seen == std::vector<std::string>{"before", "after"});
}

TEST_CASE("a producer taking over a dead slot pads its claim only below the head") {
  // Found by the fault suite: a padding frame written at the head, on space nobody had reserved,
  // hid the record the next producer put there from consumers that read it before the commit.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("first")) == ClaimStatus::ok);
  const std::uint64_t head = ring.head_position();
  leave_dead_claim(ring, 5, head, head + 256);
  detail::DataView view(detail::file_of(ring), detail::DataView::Access::read_write);
  detail::pad_abandoned_range(detail::file_of(ring), view, 5, head, head + 256);
  std::byte* frame = view.at(head, format::kRecordHeaderBytes);
  CHECK(detail::read_frame(frame, head, detail::file_of(ring).geometry()).kind == detail::FrameKind::uncommitted);
}

TEST_CASE_FIXTURE(RingWithDeadClaim, "a claim whose producer died holds producers a lap behind it until it is padded over and closed") {
  // Found by the fault suite: the producers' limit ignored such a claim, so its space was reserved
  // again a lap later while a producer taking over the dead slot was still padding it over; the
  // padding landed in the new records (a checksum mismatch, or a record turned into a hole).
  const detail::ClaimsLimit limit = detail::open_claims_limit(file, producer.slot());
  CHECK(limit.end == start + capacity);
  CHECK(limit.abandoned_slot == 3);

  // The producer that needs the space pads the claim over and closes it, then goes on.
  const std::vector<std::byte> record(1000);
  while (ring.head_position() < start + capacity + 4096) {
    REQUIRE(producer.write(record, std::chrono::seconds(30)) == ClaimStatus::ok);
  }
  CHECK_FALSE(detail::read_claim(file.header().producers[3]).open());
  CHECK(detail::open_claims_limit(file, producer.slot()).abandoned_slot == format::kProducerSlotCount);
}

TEST_CASE_FIXTURE(RingWithDeadClaim, "a producer that must close a dead claim does not wait for the table lock") {
  const std::vector<std::byte> record(1000);
  while (ring.head_position() + 2 * 1040 < start + capacity) {
    REQUIRE(producer.write(record, std::chrono::seconds(30)) == ClaimStatus::ok);
  }

  // Another process's hold on the table lock, as while a consumer attaches: the next claims
  // would block (the space is the dead claim's a lap later) and say so at once.
  const int other = ::open((dir / "ring").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(other >= 0);
  REQUIRE(::flock(other, LOCK_EX) == 0);
  ClaimStatus status = ClaimStatus::ok;
  for (int records = 0; records < 3 && status == ClaimStatus::ok; ++records) {
    ClaimResult claim = producer.try_claim(record.size());
    status = claim.status;
    if (status == ClaimStatus::ok) REQUIRE(producer.commit() == ClaimStatus::ok);
  }
  CHECK(status == ClaimStatus::would_block);
  CHECK(detail::read_claim(file.header().producers[3]).open());
  ::flock(other, LOCK_UN);
  ::close(other);
  REQUIRE(producer.write(record, std::chrono::seconds(30)) == ClaimStatus::ok);
  CHECK_FALSE(detail::read_claim(file.header().producers[3]).open());
}

TEST_CASE("a live producer's claim padded over and then lapped: its late commit or abort fails and writes nothing") {
  struct Case {
    std::string name;
    std::size_t payload_bytes;
    bool commit;  // else abort
  };
  // 100 B filled in place; 100000 B, written into the file by the commit (a buffer of its own).
  for (const Case& late : {Case{"in place, commit", 100, true}, Case{"in place, abort", 100, false},
                           Case{"through the file, commit", 100000, true}}) {
    CAPTURE(late.name);
    TempDir dir;
    Ring ring = Ring::create(dir / "ring", padded_over_soon());
    Consumer consumer = Consumer::attach(ring, {});
    Producer stuck(ring);
    ClaimResult claim = stuck.claim(late.payload_bytes, std::chrono::seconds(10));
    REQUIRE(claim);
    fill_synthetic(claim.buffer, 7, 0);
    // Found by a tester: another producer goes on past the claim once it outlived the unblock
    // timeout (the consumer pads it over), a lap and more, so that newer records lie where the
    // claim was. The late commit then took the word there for an earlier lap's, wrote its header
    // over them and returned ok: its record was never read, and the records it hit failed their
    // checksums.
    SyntheticVerifier live;
    const std::uint64_t written = write_a_lap_past(ring, claim.position, consumer, live);
    REQUIRE(ring.head_position() >= claim.position + 2 * ring.info().capacity_bytes);

    CHECK((late.commit ? stuck.commit() : stuck.abort()) == ClaimStatus::claim_lost);
    while (consumer.poll([&](const Record& record) { live.check(record.payload); }).records > 0) {
    }
    // Everything still in the ring reads intact, in order, and none of it is the stuck producer's.
    Consumer replay = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = false});
    SyntheticVerifier kept;
    const PollResult replayed = replay.poll([&](const Record& record) { kept.check(record.payload); }, 1'000'000);
    CHECK(replayed.status == PollStatus::ok);
    CHECK(kept.totals().corrupt == 0);
    CHECK(kept.totals().missing == 0);
    CHECK(kept.producers().count(7) == 0);
    REQUIRE(kept.producers().count(8) == 1);
    CHECK(kept.producers().at(8).next_sequence == written);
    CHECK(live.totals().corrupt == 0);
    CHECK(live.producers().count(7) == 0);
    CHECK(live.producers().at(8).next_sequence == written);
  }
}

TEST_CASE("a producer stalled in the middle of write()'s or write_batch()'s copy while the ring laps it: the write fails") {
  // Found by a tester: a producer SIGSTOPped for longer than the unblock timeout in the middle of
  // its copy (where write_batch spends most of its time) resumed after a holding consumer had
  // padded its claim over and the ring had gone on a lap; its commit landed on the next lap's
  // bytes and returned ok, and the records it counted as written were never read (32 at a time,
  // no error anywhere). The check that the ring had not passed the claim came before the copy.
  for (const bool batch : {false, true}) {
    CAPTURE(batch);
    TempDir dir;
    Ring ring = Ring::create(dir / "ring", padded_over_soon());
    Consumer consumer = Consumer::attach(ring, {});
    Producer stuck(ring);
    CopyStall stall;
    std::vector<std::span<const std::byte>> payloads;
    for (std::uint64_t index = 0; index < (batch ? 4U : 1U); ++index) {
      const std::span<std::byte> payload{CopyStall::page + index * 256, 200};
      fill_synthetic(payload, 7, index);
      payloads.emplace_back(payload);
    }
    stall.arm();
    ClaimStatus late = ClaimStatus::ok;
    std::atomic<bool> writer_done{false};
    std::thread writer([&] {
      late = batch ? stuck.write_batch(payloads, std::chrono::seconds(10)).status
                   : stuck.write(payloads.front(), std::chrono::seconds(10));
      writer_done.store(true, std::memory_order_release);  // pairs with the acquire load below: `late` is set
    });
    struct LetGo {  // the stalled thread, let go and joined on the way out, also after a failed REQUIRE
      CopyStall& stall;
      std::thread& thread;
      ~LetGo() {
        stall.release();
        thread.join();
      }
    } let_go{stall, writer};
    REQUIRE(stall.wait_for_stall());
    const std::uint64_t claimed_at =
        detail::read_claim(detail::file_of(ring).header().producers[stuck.slot()]).start;

    // Another producer goes on while the consumer pads the stalled claim over (once it outlived
    // the unblock timeout), until the ring is a lap past it.
    SyntheticVerifier live;
    write_a_lap_past(ring, claimed_at, consumer, live);
    CHECK(live.producers().count(7) == 0);
    stall.release();
    while (!writer_done.load(std::memory_order_acquire)) std::this_thread::yield();
    REQUIRE(ring.head_position() >= claimed_at + 2 * ring.info().capacity_bytes);
    CHECK(late == ClaimStatus::claim_lost);
    CHECK(stuck.stats().records == 0);
  }
}

TEST_CASE("a producer opened in a child of fork() owns its slot in the child's name") {
  // Found by a tester: a process that had used the library (a ring created, a consumer attached)
  // forked children whose producers took their slots in the parent's name. Dead, they looked
  // alive while the parent lived: their slots were never given to others, and a preparation lock
  // one died holding was never taken over (every producer stalled).
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::overwrite));
  Consumer consumer = Consumer::attach(ring, {});
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    Producer producer(ring);
    const bool wrote = producer.write(as_bytes("from the child")) == ClaimStatus::ok;
    ::_exit(wrote ? 0 : 1);  // without giving the slot back, as a crash would
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  bool found = false;
  for (const ProducerInfo& producer : ring.producers()) {
    if (producer.committed_records == 0) continue;
    found = true;
    CHECK(producer.pid == static_cast<std::uint64_t>(child));
    CHECK_FALSE(producer.alive);
  }
  CHECK(found);
  CHECK(drain(consumer) == std::vector<std::string>{"from the child"});
}
