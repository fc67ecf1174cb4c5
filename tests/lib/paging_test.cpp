// The paging engine: invalidation ahead of the head, release behind the followers, the resident
// budget, and recovery from a preparer that died.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "atomics.hpp"
#include "paging.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "slot_tables.hpp"
#include "support/child_process.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

// How far producers may go past a follower stopped at `cursor`: the hold window, from what its
// cursor keeps (a group's span before it, detail::kept_from_cursor).
std::uint64_t held_at(const Ring& ring, std::uint64_t cursor, std::uint64_t hold_window) {
  return detail::kept_from_cursor(detail::file_of(ring).geometry(), cursor) + hold_window;
}

constexpr std::uint64_t kView = 64 * 1024;  // the smallest view: small chunks on small rings
// A budget set by the test rather than by the machine's memory, so that the bounds are its own.
constexpr std::uint64_t kBudget = 4 << 20;

std::uint64_t load(std::uint64_t& field) { return detail::atomic_field(field).load(); }

Ring engine_ring(const TempDir& dir, std::uint64_t capacity, WriterPolicy policy, PagingStrategy paging) {
  CreateOptions options = small_ring(capacity, policy, 16 * 1024);
  options.paging = paging;
  return Ring::create(dir / "ring", options, {.view_bytes = kView, .resident_budget_bytes = kBudget});
}

bool zero_range_available(const TempDir& dir) {
  CreateOptions options = small_ring(1 << 20);
  options.paging = PagingStrategy::zero_range;
  return Ring::create(dir / "probe", options).info().paging == PagingStrategy::zero_range;
}

std::vector<std::byte> file_bytes(const Ring& ring, std::uint64_t start, std::uint64_t end) {
  std::vector<std::byte> bytes;
  detail::for_each_file_range(detail::file_of(ring), start, end, [&](std::uint64_t offset, std::uint64_t length) {
    const std::size_t before = bytes.size();
    bytes.resize(before + length);
    REQUIRE(::pread(detail::file_of(ring).fd(), bytes.data() + before, length, static_cast<off_t>(offset)) ==
            static_cast<ssize_t>(length));
  });
  return bytes;
}

std::uint64_t resident_bytes(const Ring& ring) { return ring.residency().resident_bytes; }

// Writes the next synthetic record of producer 1 (`record` sets its size), numbered `sequence`.
void write_next(Producer& producer, std::vector<std::byte>& record, std::uint64_t& sequence) {
  fill_synthetic(record, 1, sequence++);
  // Generous: the space comes once writeback has released it, which a busy disk can delay.
  REQUIRE(producer.write(record, std::chrono::seconds(60)) == ClaimStatus::ok);
}

}  // namespace

TEST_CASE("paging: strategies resolve per filesystem and are stored in the file") {
  TempDir dir;
  Ring small = Ring::create(dir / "small", small_ring(1 << 20));
  CHECK(small.info().paging == PagingStrategy::none);  // automatic: small rings stay resident
  CreateOptions options = small_ring(1 << 20);
  options.paging = PagingStrategy::punch_hole;
  Ring::create(dir / "punched", options);
  CHECK(Ring::open(dir / "punched").info().paging == PagingStrategy::punch_hole);
  if (std::filesystem::exists("/dev/shm")) {
    // On tmpfs the ring is memory: automatic chooses none even above the small-ring size, and
    // records move as anywhere else.
    const auto path = std::filesystem::path("/dev/shm") / ("ringfile-test-" + std::to_string(::getpid()));
    options.capacity_bytes = 520ull << 20;
    options.paging = PagingStrategy::automatic;
    {
      Ring on_tmpfs = Ring::create(path, options);
      CHECK(on_tmpfs.info().paging == PagingStrategy::none);
      Consumer consumer = Consumer::attach(on_tmpfs, {});
      Producer producer(on_tmpfs);
      for (const char* text : {"in", "memory"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
      CHECK(drain(consumer) == std::vector<std::string>{"in", "memory"});
    }
    std::filesystem::remove(path);
  }
}

TEST_CASE("paging: automatic leaves a ring resident whole only where it is small beside the memory") {
  CHECK(detail::largest_ring_kept_whole(0) == 512 * kMiB);  // memory unknown: the size alone decides
  CHECK(detail::largest_ring_kept_whole(24 * 1024 * kMiB) == 512 * kMiB);
  const std::uint64_t in_a_small_container = detail::largest_ring_kept_whole(256 * kMiB);  // a sixteenth
  CHECK(in_a_small_container <= 16 * kMiB);
  CHECK(in_a_small_container > 15 * kMiB);
  TempDir dir;
  const auto path = dir / "probe";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  const auto automatic = [fd](std::uint64_t capacity, std::uint64_t memory) {
    return detail::resolve_paging_strategy(fd, capacity, PagingStrategy::automatic, memory, 0);
  };
  CHECK(automatic(128 * kMiB, 24 * 1024 * kMiB) == PagingStrategy::none);
  CHECK(automatic(128 * kMiB, 0) == PagingStrategy::none);
  if (detail::on_tmpfs(fd)) {
    // The ring is memory there, whatever its size beside the memory.
    CHECK(automatic(128 * kMiB, 256 * kMiB) == PagingStrategy::none);
    MESSAGE("on tmpfs (" << dir.path() << "): paging on disk not checked");
  } else {
    // Four rings of 128 MiB, or twelve of 24 MiB, in a container of 256 MiB: left whole, the
    // pages a lagging consumer needs next are the ones evicted first.
    CHECK(automatic(128 * kMiB, 256 * kMiB) != PagingStrategy::none);
    CHECK(automatic(24 * kMiB, 256 * kMiB) != PagingStrategy::none);
    CHECK(automatic(8 * kMiB, 256 * kMiB) == PagingStrategy::none);
    CHECK(automatic(1024 * kMiB, 24 * 1024 * kMiB) != PagingStrategy::none);
    // Beside rings kept whole open now: together they may take a quarter of the memory (half the
    // rings' share), so the fifth ring of 16 MiB in 256 MiB is paged, as is any ring past 6 GiB
    // kept whole in 24 GiB (a little less: the shares are rounded down).
    const auto beside = [fd](std::uint64_t capacity, std::uint64_t memory, std::uint64_t whole_open) {
      return detail::resolve_paging_strategy(fd, capacity, PagingStrategy::automatic, memory, whole_open);
    };
    CHECK(beside(in_a_small_container, 256 * kMiB, 3 * in_a_small_container) == PagingStrategy::none);
    CHECK(beside(in_a_small_container, 256 * kMiB, 4 * in_a_small_container) != PagingStrategy::none);
    CHECK(beside(512 * kMiB, 24 * 1024 * kMiB, 5120 * kMiB) == PagingStrategy::none);
    CHECK(beside(512 * kMiB, 24 * 1024 * kMiB, 5632 * kMiB) != PagingStrategy::none);
    CHECK(beside(512 * kMiB, 0, 64 * 1024 * kMiB) == PagingStrategy::none);  // memory unknown: the size alone decides
  }
  ::close(fd);
}

TEST_CASE("paging: bytes ahead of the head are invalidated before producers reuse them") {
  TempDir dir;
  if (!zero_range_available(dir)) {
    MESSAGE("skipped: no FALLOC_FL_ZERO_RANGE on " << dir.path());
    return;
  }
  const std::uint64_t capacity = 4 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::zero_range);
  Consumer consumer = Consumer::attach(ring, {});
  SyntheticVerifier verifier;
  std::vector<std::byte> record(3000);
  std::uint64_t sequence = 0;
  const auto& header = detail::file_of(ring).header();
  {
    Producer producer(ring);
    while (ring.head_position() < 3 * capacity + capacity / 2) {
      write_next(producer, record, sequence);
      consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); });
      // Producers never reserve beyond the prepared frontier.
      REQUIRE(load(const_cast<std::uint64_t&>(header.prepared_position.value)) >= ring.head_position());
    }
  }  // the producer and its housekeeping thread are gone: the frontiers stand still
  const std::uint64_t head = ring.head_position();
  const std::uint64_t prepared = load(const_cast<std::uint64_t&>(header.prepared_position.value));
  REQUIRE(prepared > head);
  // What lies between the head and the frontier is the old lap, invalidated: all zeros.
  const auto ahead = file_bytes(ring, head, prepared);
  CHECK(std::all_of(ahead.begin(), ahead.end(), [](std::byte value) { return value == std::byte{0}; }));
  // ...while the bytes just behind the frontier of the lap before are still the old records.
  const auto behind = file_bytes(ring, prepared, prepared + 4096);
  CHECK(std::any_of(behind.begin(), behind.end(), [](std::byte value) { return value != std::byte{0}; }));
  CHECK(verifier.totals().records == sequence);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
}

TEST_CASE("paging: a caught-up follower with the narrowest hold window never stops a record at the end of a lap") {
  // The producers' limit is the follower's cursor plus the hold window; preparation stops at the
  // last page boundary below it. Records of the largest size, and 2168 bytes of padding at the
  // end of each lap of 1 MiB: the record after the padding must still fit below that boundary.
  TempDir dir;
  if (!zero_range_available(dir)) {
    MESSAGE("skipped: no FALLOC_FL_ZERO_RANGE on " << dir.path());
    return;
  }
  const std::uint64_t capacity = 1 << 20;
  CreateOptions options = small_ring(capacity, WriterPolicy::block, 4096);
  options.paging = PagingStrategy::zero_range;
  // The narrowest window a ring may be made with: two records of the largest size.
  options.hold_window_bytes = 2 * format::frame_stride(format::kRecordHeaderBytes + options.max_record_bytes);
  Ring ring = Ring::create(dir / "ring", options, {.view_bytes = kView});
  Consumer follower = Consumer::attach(ring, {});
  Producer producer(ring);
  SyntheticVerifier verifier;
  std::vector<std::byte> record(options.max_record_bytes);
  std::uint64_t sequence = 0;
  while (ring.head_position() < 3 * capacity) {
    write_next(producer, record, sequence);
    // The follower reads each record at once: its cursor is the head when the next one is written.
    CHECK(follower.poll([&](const Record& delivered) { verifier.check(delivered.payload); }).records == 1);
  }
  CHECK(verifier.totals().records == sequence);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
}

TEST_CASE("paging: under block policy nothing a holding consumer has not read is invalidated") {
  TempDir dir;
  const std::uint64_t capacity = 4 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::punch_hole);
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  std::vector<std::byte> record(3000);
  std::uint64_t written = 0;
  for (;; ++written) {
    fill_synthetic(record, 1, written);
    if (producer.write(record, std::chrono::milliseconds(50)) != ClaimStatus::ok) break;
  }
  const auto& header = detail::file_of(ring).header();
  CHECK(load(const_cast<std::uint64_t&>(header.preparation.preparing_end)) <= capacity);
  // Every record of the full lap is still there, intact.
  SyntheticVerifier verifier;
  consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, written);
  CHECK(verifier.totals().records == written);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.producers().at(1).first_sequence == 0);
}

TEST_CASE("paging: overwrite policy, a consumer left behind by the frontier skips, never reads zeros as records") {
  TempDir dir;
  const std::uint64_t capacity = 4 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::overwrite, PagingStrategy::punch_hole);
  Consumer laggard = Consumer::attach(ring, {});
  Producer producer(ring);
  std::vector<std::byte> record(3000);
  SyntheticVerifier verifier;
  std::uint64_t written = 0;
  for (int round = 0; round < 6; ++round) {
    while (ring.head_position() < (round + 1) * capacity * 3 / 4) {
      write_next(producer, record, written);
    }
    const PollResult polled = laggard.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 50);
    REQUIRE(polled.status == PollStatus::ok);
  }
  laggard.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 1 << 20);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().duplicates == 0);
  CHECK(laggard.stats().lapped_count > 0);
  CHECK(verifier.producers().at(1).next_sequence == written);
  CHECK(laggard.stats().lost_records + verifier.totals().records == written);
}

TEST_CASE("paging: behind a following consumer pages are dropped, the ring's resident bytes stay within budget") {
  TempDir dir;
  const std::uint64_t capacity = 32 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::zero_range);
  Consumer follower = Consumer::attach(ring, {});
  Producer producer(ring);
  detail::Pager pager(detail::file_of(ring));
  // The bound from the issue: views ahead + follower lag + views behind, plus the header and the
  // granularity at which the kernel drops pages (one large folio).
  const std::uint64_t bound = pager.resident_bound_bytes();
  std::vector<std::byte> record(16 * 1024);
  std::uint64_t sequence = 0;
  std::uint64_t most_resident = 0;
  SyntheticVerifier verifier;
  while (ring.head_position() < 3 * capacity) {
    write_next(producer, record, sequence);
    follower.poll([&](const Record& delivered) { verifier.check(delivered.payload); });
    if (sequence % 64 == 0) most_resident = std::max(most_resident, resident_bytes(ring));
  }
  MESSAGE("ring of " << (capacity >> 20) << " MiB, 3 laps: at most " << (most_resident >> 10)
                     << " KiB resident, budget " << (bound >> 10) << " KiB");
  CHECK(most_resident <= bound);
  CHECK(most_resident < capacity / 2);
  CHECK(load(detail::file_of(ring).header().released_position.value) > 2 * capacity);
  CHECK(verifier.totals().records == sequence);
  CHECK(verifier.totals().corrupt == 0);
}

TEST_CASE("paging: a holding consumer within the hold window paces producers, and what it has not read stays in memory") {
  TempDir dir;
  const std::uint64_t capacity = 32 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::zero_range);
  Consumer follower = Consumer::attach(ring, {});
  Producer producer(ring);  // publishes the budget before its first record
  const PagingState state = ring.paging_state();
  CHECK(state.resident_budget_bytes == kBudget);
  const std::uint64_t hold_window = state.hold_window_bytes;
  REQUIRE(hold_window < kBudget);
  REQUIRE(ring.consumers().at(0).following);  // attached at the head: within the window
  std::vector<std::byte> record(16 * 1024);
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + record.size());
  std::uint64_t sequence = 0;
  while (ring.head_position() < capacity + capacity / 2) {
    write_next(producer, record, sequence);
    follower.poll([](const Record&) {});
  }
  // It stops reading. Producers go on until the next record would take them past the window.
  const std::uint64_t stopped_at = follower.position();
  while (ring.head_position() + stride <= held_at(ring, stopped_at, hold_window)) {
    fill_synthetic(record, 1, sequence);
    if (producer.write(record, std::chrono::milliseconds(50)) == ClaimStatus::ok) ++sequence;
  }
  fill_synthetic(record, 1, sequence);
  CHECK(producer.try_claim(record.size()).status == ClaimStatus::would_block);
  CHECK(ring.head_position() <= stopped_at + hold_window);
  CHECK(ring.consumers().at(0).following);
  CHECK(!ring.consumers().at(0).replaying);
  // The engine keeps everything it has not read in memory.
  detail::Pager pager(detail::file_of(ring));
  pager.release_behind();
  CHECK(load(detail::file_of(ring).header().released_position.value) <= stopped_at);
  const auto& info = ring.info();
  struct {
    std::uint64_t offset, length;
  } range{info.data_offset + stopped_at % capacity, ring.head_position() - stopped_at};
  struct {
    std::uint64_t cache, dirty, writeback, evicted, recently_evicted;
  } cached{};
  if (::syscall(451, detail::file_of(ring).fd(), &range, &cached, 0) == 0) {
    CHECK(cached.cache * 4096 >= range.length - 4096);
  }
  SyntheticVerifier verifier;
  follower.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 1 << 20);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.producers().at(1).next_sequence == sequence);
  // Room again: the producer goes on.
  CHECK(producer.write(record, std::chrono::seconds(10)) == ClaimStatus::ok);
}

TEST_CASE("paging: a follower is never passed by the release, even when the budget shrinks under it") {
  TempDir dir;
  const std::uint64_t capacity = 32 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::zero_range);
  Consumer follower = Consumer::attach(ring, {});
  std::vector<std::byte> record(16 * 1024);
  std::uint64_t sequence = 0;
  std::uint64_t hold_window = 0;
  {
    Producer producer(ring);
    hold_window = ring.paging_state().hold_window_bytes;
    // A lap with the follower close behind, then it stops reading and the producer fills the window.
    while (ring.head_position() < capacity) {
      write_next(producer, record, sequence);
      follower.poll([](const Record&) {});
    }
    const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + record.size());
    while (ring.head_position() + stride <= held_at(ring, follower.position(), hold_window)) {
      fill_synthetic(record, 1, sequence);
      if (producer.write(record, std::chrono::milliseconds(50)) == ClaimStatus::ok) ++sequence;
    }
  }  // the producer's engine stops: the budget below stays as published
  REQUIRE(ring.consumers().at(0).following);
  const std::uint64_t lag = ring.head_position() - follower.position();
  // More rings open on the machine: the budget shrinks to its minimum, far below the lag.
  detail::publish_budget(detail::file_of(ring), {.budget_bytes = 1});
  REQUIRE(ring.paging_state().hold_window_bytes < lag);
  detail::Pager pager(detail::file_of(ring));
  pager.release_behind();
  CHECK(load(detail::file_of(ring).header().released_position.value) <= follower.position());
  CHECK(!ring.consumers().at(0).replaying);
  SyntheticVerifier verifier;
  follower.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 64 << 20);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(verifier.producers().at(1).next_sequence == sequence);
  // Once it has read them, they go.
  pager.release_behind();
  CHECK(load(detail::file_of(ring).header().released_position.value) > follower.position() - lag);
}

TEST_CASE("paging: a consumer further behind than the hold window holds producers at the capacity, and follows once it is within") {
  TempDir dir;
  const std::uint64_t capacity = 32 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::block, PagingStrategy::zero_range);
  Producer producer(ring);
  std::vector<std::byte> record(16 * 1024);
  std::uint64_t sequence = 0;
  while (ring.head_position() < capacity / 2) write_next(producer, record, sequence);
  // From the oldest record: half the ring behind, far beyond the window.
  Consumer late = Consumer::attach(ring, {.start = StartFrom::earliest});
  const std::uint64_t hold_window = ring.paging_state().hold_window_bytes;
  REQUIRE(ring.head_position() - late.position() > hold_window);
  CHECK(!ring.consumers().at(0).following);
  // Producers go on past its cursor + the window (up to the capacity).
  while (ring.head_position() < late.position() + capacity - capacity / 8) write_next(producer, record, sequence);
  CHECK(ring.head_position() > late.position() + hold_window);
  // It reads up to the head and commits: now it follows, and paces producers.
  SyntheticVerifier verifier;
  late.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 1 << 20);
  CHECK(ring.consumers().at(0).following);
  CHECK(verifier.totals().records == sequence);
  CHECK(verifier.totals().corrupt == 0);
  const std::uint64_t caught_up_at = late.position();
  // Claims turned into padding move the head as records would, until the window is full.
  while (producer.try_claim(record.size()).status == ClaimStatus::ok) producer.abort();
  CHECK(ring.head_position() <= caught_up_at + hold_window);
}

TEST_CASE("paging: a consumer replaying the last lap does not keep it in memory") {
  TempDir dir;
  const std::uint64_t capacity = 32 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::overwrite, PagingStrategy::punch_hole);
  Producer producer(ring);
  Consumer follower = Consumer::attach(ring, {});
  std::vector<std::byte> record(16 * 1024);
  std::uint64_t sequence = 0;
  const auto write_some = [&](std::uint64_t bytes) {
    const std::uint64_t until = ring.head_position() + bytes;
    while (ring.head_position() < until) {
      write_next(producer, record, sequence);
      follower.poll([](const Record&) {});
    }
  };
  write_some(capacity + capacity / 2);
  const std::uint64_t replay_from = follower.position();  // a record boundary
  write_some(capacity / 2);
  // Half a lap behind the head, far beyond the resident lag: it replays records no longer in
  // memory (and not so close to the oldest byte that producers overwrite them while it reads).
  Consumer replayer = Consumer::attach(ring, {.start_position = replay_from});
  detail::Pager pager(detail::file_of(ring));
  REQUIRE(ring.head_position() - replayer.position() > pager.sizes().resident_lag_bytes);
  // The follower's bound, plus the replayer's own view and the readahead it asks for (2 MiB for
  // a budget this small).
  const std::uint64_t bound = pager.resident_bound_bytes() + detail::file_of(ring).view_bytes() + (2 << 20);
  SyntheticVerifier verifier;
  std::uint64_t most_resident = 0;
  for (int round = 0; round < 200; ++round) {
    write_some(16 * 1024);
    replayer.poll([&](const Record& delivered) { verifier.check(delivered.payload); }, 4);
    most_resident = std::max(most_resident, resident_bytes(ring));
  }
  CHECK(ring.consumers().at(1).replaying);
  MESSAGE("replaying " << verifier.totals().records << " records: at most " << (most_resident >> 10)
                       << " KiB resident, bound " << (bound >> 10) << " KiB");
  CHECK(verifier.totals().records == 800);
  CHECK(verifier.totals().corrupt == 0);
  CHECK(most_resident <= bound);
}

TEST_CASE("paging: a preparation left by a dead process is taken over") {
  TempDir dir;
  const std::uint64_t capacity = 4 << 20;
  Ring ring = engine_ring(dir, capacity, WriterPolicy::overwrite, PagingStrategy::punch_hole);
  // A process that took the preparation lock and died before finishing.
  ChildProcess dead("produce", {(dir / "ring").string(), "9", "1", "24", "24"});
  REQUIRE(dead.read_line().value_or("").rfind("done", 0) == 0);
  const pid_t dead_pid = dead.pid();
  const std::uint64_t dead_start = detail::process_start_time(static_cast<std::uint64_t>(dead_pid));
  dead.kill_hard();
  auto& header = detail::file_of(ring).header();
  const std::uint64_t prepared = load(header.prepared_position.value);
  detail::atomic_field(header.preparation.owner_word)
      .store(static_cast<std::uint64_t>(dead_pid) << 32 | (dead_start & 0xFFFFFFFFu) | 1u);
  detail::atomic_field(header.preparation.preparing_end).store(prepared + 64 * 1024);

  Producer producer(ring);
  std::vector<std::byte> record(3000);
  std::uint64_t sequence = 0;
  while (ring.head_position() < 2 * capacity) write_next(producer, record, sequence);
  CHECK(load(header.prepared_position.value) >= 2 * capacity);
}
