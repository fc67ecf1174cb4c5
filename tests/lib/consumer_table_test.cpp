// The consumer table's life cycle seen by an operator: deleting and resetting named consumers,
// expiry, a table of 64 names that no longer fills up for good, and freeing the slots a damaged
// header left unreadable.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <functional>

#include "clock.hpp"
#include "process_identity.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "slot_tables.hpp"
#include "ringfile/consumer_table.hpp"
#include "ringfile/error.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/eventually.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

std::optional<ConsumerInfo> find(const Ring& ring, const std::string& name) {
  for (const ConsumerInfo& info : ring.consumers()) {
    if (info.name == name) return info;
  }
  return std::nullopt;
}

ErrorCode error_of(const std::function<void()>& call, std::string* message = nullptr) {
  try {
    call();
  } catch (const Error& error) {
    if (message != nullptr) *message = error.what();
    return error.code();
  }
  FAIL("no error was thrown");
  return ErrorCode::io_error;
}

// Writes `count` synthetic records of `size` bytes; returns the position of each.
std::vector<std::uint64_t> write_records(Producer& producer, std::uint64_t count, std::size_t size,
                                         std::uint64_t first_sequence = 0) {
  std::vector<std::uint64_t> positions;
  for (std::uint64_t sequence = first_sequence; sequence < first_sequence + count; ++sequence) {
    positions.push_back(producer.ring().head_position());
    REQUIRE(producer.write(synthetic_payload(1, sequence, size), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
  }
  return positions;
}

}  // namespace

TEST_CASE("delete frees a named consumer's slot - an attached one, or an unknown name, is refused") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Consumer::attach(ring, {.name = "gone"}).detach();
  Consumer live = Consumer::attach(ring, {.name = "live"});
  REQUIRE(find(ring, "gone"));

  delete_consumer(ring, "gone");
  CHECK_FALSE(find(ring, "gone"));
  std::string message;
  CHECK(error_of([&] { delete_consumer(ring, "live"); }, &message) == ErrorCode::busy);
  CHECK(message.find("while live process " + std::to_string(::getpid()) + " is attached") != std::string::npos);
  CHECK(error_of([&] { delete_consumer(ring, "nobody"); }, &message) == ErrorCode::not_found);
  CHECK(message.find("no consumer is named 'nobody'") != std::string::npos);
  CHECK(find(ring, "live"));
}

TEST_CASE("64 names fill the table - deleting one, or one passing its expiry, makes room again") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  for (int index = 0; index < 64; ++index) {
    // The last one expires a moment after it detaches; the others never do.
    const auto expiry = index == 63 ? std::chrono::milliseconds(1) : std::chrono::milliseconds(0);
    Consumer::attach(ring, {.name = "name" + std::to_string(index), .expire_after = expiry}).detach();
  }
  REQUIRE(eventually([&] { return find(ring, "name63")->past_expiry; }));
  CHECK_FALSE(find(ring, "name62")->past_expiry);
  CHECK(find(ring, "name63")->expire_after == std::chrono::milliseconds(1));

  // The expired name's slot is taken by a newcomer; after that the table is full.
  Consumer newcomer = Consumer::attach(ring, {});
  CHECK_FALSE(find(ring, "name63"));
  std::string message;
  CHECK(error_of([&] { Consumer::attach(ring, {}); }, &message) == ErrorCode::table_full);
  CHECK(message.find("ringfile-consumer --delete NAME") != std::string::npos);
  delete_consumer(ring, "name0");
  Consumer::attach(ring, {.name = "fresh"}).detach();
  CHECK(find(ring, "fresh"));
}

TEST_CASE("a named consumer past its expiry that comes back starts afresh, as if deleted") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Producer producer(ring);
  write_records(producer, 10, 100);
  {
    Consumer reader = Consumer::attach(ring, {.name = "reader", .start = StartFrom::earliest,
                                              .expire_after = std::chrono::milliseconds(1)});
    reader.poll([](const Record&) {}, 3);
  }
  const std::uint64_t saved = find(ring, "reader")->cursor;
  REQUIRE(saved > 0);
  REQUIRE(eventually([&] { return find(ring, "reader")->past_expiry; }));
  Consumer back = Consumer::attach(ring, {.name = "reader"});
  CHECK(back.position() == ring.head_position());  // committed, for a new name: latest
  CHECK_FALSE(find(ring, "reader")->past_expiry);
  // A name that is attached never expires, however long ago its last poll.
  CHECK(find(ring, "reader")->expire_after == std::chrono::milliseconds(0));
}

TEST_CASE("reset moves a detached consumer's cursor to each kind of target - a dry run changes nothing") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024));
  Producer producer(ring);
  const std::vector<std::uint64_t> positions = write_records(producer, 100, 100);
  {
    Consumer reader = Consumer::attach(ring, {.name = "reader", .start = StartFrom::earliest});
    reader.poll([](const Record&) {}, 60);
  }
  const std::uint64_t saved = find(ring, "reader")->cursor;
  REQUIRE(saved == positions[60]);

  const CursorReset dry = reset_consumer(ring, "reader", Seek::earliest(), true);
  CHECK(dry.from == saved);
  CHECK(dry.to == 0);
  CHECK(dry.head == ring.head_position());
  CHECK_FALSE(dry.applied);
  CHECK(find(ring, "reader")->cursor == saved);

  CHECK(reset_consumer(ring, "reader", Seek::earliest()).applied);
  CHECK(find(ring, "reader")->cursor == 0);
  CHECK(reset_consumer(ring, "reader", Seek::latest()).to == ring.head_position());
  CHECK(reset_consumer(ring, "reader", Seek::to_position(positions[42])).to == positions[42]);
  CHECK(reset_consumer(ring, "reader", Seek::last_records(7)).to == positions[93]);

  // A position inside a record is refused, naming the next record; or rounded up when asked.
  std::string message;
  CHECK(error_of([&] { reset_consumer(ring, "reader", Seek::to_position(positions[42] + 16)); }, &message) ==
        ErrorCode::invalid_argument);
  CHECK(message.find("is inside a record, not at its start; the next record starts at " +
                     std::to_string(positions[43])) != std::string::npos);
  CHECK(reset_consumer(ring, "reader", Seek::to_position(positions[42] + 13, true)).to == positions[43]);
  CHECK(error_of([&] { reset_consumer(ring, "reader", Seek::to_position(ring.head_position() + 8)); }, &message) ==
        ErrorCode::invalid_argument);
  CHECK(message.find("is outside the data still in the ring [0, " + std::to_string(ring.head_position()) + "]") !=
        std::string::npos);

  // The consumer resumes where it was reset to.
  CHECK(reset_consumer(ring, "reader", Seek::to_position(positions[10])).to == positions[10]);
  Consumer resumed = Consumer::attach(ring, {.name = "reader"});
  std::vector<std::uint64_t> seen;
  resumed.poll([&](const Record& record) { seen.push_back(record.position); });
  CHECK(seen == std::vector<std::uint64_t>(positions.begin() + 10, positions.end()));
  CHECK(error_of([&] { reset_consumer(ring, "reader", Seek::earliest()); }) == ErrorCode::busy);
}

TEST_CASE("block: a reset moving a dead holding consumer back holds producers at its new cursor") {
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  CreateOptions options = small_ring(capacity);
  options.consumer_grace = std::chrono::minutes(10);  // dead, and holding for the whole test
  Ring ring = Ring::create(dir / "ring", options);
  Producer producer(ring);
  std::vector<std::uint64_t> positions = write_records(producer, 30, 1000);
  auto child = attached_consumer_child(dir / "ring", "ledger");  // at the head, past the 30 records
  child->kill_hard();
  REQUIRE(find(ring, "ledger")->holds_back);
  const std::uint64_t dead_cursor = find(ring, "ledger")->cursor;

  const CursorReset reset = reset_consumer(ring, "ledger", Seek::earliest());
  CHECK(reset.holds_back);
  CHECK_FALSE(reset.moved_past_overwritten);
  CHECK(reset.to == 0);
  // Producers now stop a lap after 0, where the dead consumer's old cursor let them go further.
  std::uint64_t sequence = 30;
  while (producer.write(synthetic_payload(1, sequence, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok) ++sequence;
  CHECK(ring.head_position() <= capacity);
  CHECK(dead_cursor >= 30 * 1000);  // its old cursor would have let them write 30 records more

  // So every record is still there when the consumer comes back.
  Consumer returned = Consumer::attach(ring, {.name = "ledger"});
  CHECK(returned.stats().lost_bytes == 0);
  SyntheticVerifier verifier;
  returned.poll([&](const Record& record) { verifier.check(record.payload); });
  CHECK(verifier.totals().records == sequence);
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.producers().at(1).first_sequence == 0);
}

TEST_CASE("clear_damaged_slots frees the damaged slots that kept the ring from opening - records and sound slots stay") {
  TempDir dir;
  const auto path = dir / "ring";
  Ring ring = Ring::create(path, small_ring(1 << 20));
  {
    Producer producer(ring);
    write_records(producer, 20, 100);
    Consumer keeper = Consumer::attach(ring, {.name = "keeper", .start = StartFrom::earliest});
    std::size_t read = 0;
    keeper.poll([&](const Record&) { return ++read < 10; });  // the 10th is left unread
    REQUIRE(read == 10);
  }
  const std::uint64_t keeper_cursor = find(ring, "keeper")->cursor;
  // What no library writes: through the handle still open, as a damaged or forged header would.
  format::FileHeader& header = detail::file_of(ring).header();
  header.consumers[5].state = 9;
  header.consumers[6].state = static_cast<std::uint32_t>(format::ConsumerState::detached);
  header.consumers[6].cursor = 12;
  format::ProducerSlot& producer_slot = header.producers[3];
  producer_slot.state = 7;
  producer_slot.claim_sequence = 5;  // odd: torn in the middle of a publication
  producer_slot.claim_start = 104;
  producer_slot.claim_end = 4096;

  std::string message;
  CHECK(error_of([&] { Ring::open(path); }, &message) == ErrorCode::corrupt);
  CHECK(message.find("consumer slot 5: unknown state 9") != std::string::npos);
  CHECK(message.find("(and 2 more damaged slots)") != std::string::npos);
  CHECK(message.find("--clear-damaged-slots") != std::string::npos);

  const std::vector<DamagedSlot> listed = clear_damaged_slots(path, true);
  REQUIRE(listed.size() == 3);
  CHECK((!listed[0].producer && listed[0].index == 5 && listed[0].problem == "unknown state 9"));
  CHECK((!listed[1].producer && listed[1].index == 6 && listed[1].problem == "cursor 12 is not 8-byte aligned"));
  CHECK((listed[2].producer && listed[2].index == 3 && listed[2].problem == "unknown state 7"));
  CHECK(error_of([&] { Ring::open(path); }) == ErrorCode::corrupt);  // a dry run changes nothing

  CHECK(clear_damaged_slots(path).size() == 3);
  CHECK(clear_damaged_slots(path).empty());
  const Ring reopened = Ring::open(path);
  CHECK(reopened.consumers().size() == 1);  // keeper's, with its cursor
  CHECK(find(reopened, "keeper")->cursor == keeper_cursor);
  // The damaged producer slot's claim is forgotten, not padded over: nothing below the head moved.
  CHECK(producer_slot.claim_start == producer_slot.claim_end);
  CHECK(producer_slot.claim_sequence % 2 == 0);

  // Every record is there, for the consumer whose slot was sound and for producers to go on.
  Producer producer(reopened);
  write_records(producer, 5, 100, 20);
  Consumer keeper = Consumer::attach(reopened, {.name = "keeper"});
  SyntheticVerifier verifier;
  keeper.poll([&](const Record& record) { verifier.check(record.payload); });
  CHECK(verifier.totals().records == 16);  // the 10th of the 20 on
  CHECK(verifier.totals().missing == 0);
  CHECK(verifier.producers().at(1).first_sequence == 9);
}

TEST_CASE("clear_damaged_slots pads a dead producer's claim over, and leaves alone a slot whose owner is alive") {
  TempDir dir;
  const auto path = dir / "ring";
  CreateOptions options = small_ring(1 << 20);
  options.unblock_timeout = std::chrono::minutes(10);  // no consumer pads the claim over on its own meanwhile
  Ring ring = Ring::create(path, options);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  Producer producer(ring);
  const std::string before = "before";
  const std::string after = "after";
  REQUIRE(producer.write(as_bytes(before)) == ClaimStatus::ok);
  // Slot 3: a producer killed while filling the 256 bytes it had reserved, and then the slot's
  // state damaged.
  format::FileHeader& header = detail::file_of(ring).header();
  const std::uint64_t start = ring.head_position();
  format::ProducerSlot& dead = header.producers[3];
  dead.owner_pid = pid_of_ended_process();
  dead.owner_start_time = 1;
  detail::publish_claim(dead, {start, start + 256, detail::realtime_ns()});
  detail::atomic_field(header.head_position.value).store(start + 256);
  dead.state = 7;
  // Consumer slot 9: damaged, its owner this very process, which is alive.
  format::ConsumerSlot& live = header.consumers[9];
  live.owner_pid = detail::current_process().pid;
  live.owner_start_time = detail::current_process().start_time;
  live.state = 9;
  REQUIRE(producer.write(as_bytes(after)) == ClaimStatus::ok);

  const std::vector<DamagedSlot> listed = clear_damaged_slots(path, true);
  REQUIRE(listed.size() == 2);
  CHECK((!listed[0].producer && listed[0].index == 9 && listed[0].live_owner_pid == detail::current_process().pid));
  CHECK((listed[1].producer && listed[1].index == 3 && listed[1].live_owner_pid == 0));

  const std::vector<DamagedSlot> cleared = clear_damaged_slots(path);
  REQUIRE(cleared.size() == 2);
  CHECK(live.state == 9);  // left as it was
  CHECK(dead.state == static_cast<std::uint32_t>(format::ProducerState::free));
  CHECK_FALSE(detail::read_claim(dead).open());
  CHECK(error_of([&] { Ring::open(path); }) == ErrorCode::corrupt);  // slot 9 is still damaged

  // The claim was padded over: the consumer reads on past it at once, long before any timeout.
  std::vector<std::string> seen;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) {
      seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    });
    REQUIRE(polled.status == PollStatus::ok);
    if (polled.records == 0) break;
  }
  CHECK(seen == std::vector<std::string>{"before", "after"});
}

TEST_CASE("a named consumer that detaches holds producers back for the grace period, as a dead one does") {
  // Found by a tester: a clean detach let producers go at once, so a consumer stopped and started
  // again straight away lost records that a SIGKILLed one kept for its grace period.
  TempDir dir;
  CreateOptions options = small_ring(64 * 1024);
  options.consumer_grace = std::chrono::hours(1);
  Ring ring = Ring::create(dir / "ring", options);
  Consumer::attach(ring, {.name = "billing"}).detach();
  REQUIRE(find(ring, "billing")->detached);
  CHECK(find(ring, "billing")->holds_back);
  Producer producer(ring);
  // A lap past its cursor, and no further: a full ring waits for it.
  std::uint64_t written = 0;
  while (producer.write(synthetic_payload(1, written, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok) {
    written += 1;
    REQUIRE(written < 200);
  }
  CHECK(ring.head_position() <= 64 * 1024);
  CHECK(ring.head_position() > 60 * 1024);

  SUBCASE("started again within it: every record is still there") {
    Consumer back = Consumer::attach(ring, {.name = "billing"});
    std::uint64_t read = 0;
    back.poll([&](const Record& record) { CHECK(record.producer_sequence == read++); });
    CHECK(read == written);
    CHECK(back.stats().lost_bytes == 0);
  }
  SUBCASE("deleted: it holds nothing back any more") {
    delete_consumer(ring, "billing");
    CHECK(producer.write(synthetic_payload(1, written, 1000), std::chrono::nanoseconds(0)) == ClaimStatus::ok);
  }
  SUBCASE("a reset of it is one of a holding consumer (which, moved back, holds producers at its new cursor)") {
    const CursorReset reset = reset_consumer(ring, "billing", Seek::earliest());
    CHECK(reset.holds_back);
  }
}

TEST_CASE("a named consumer hung for longer than the grace, then killed: it holds for the grace from its death") {
  // Found by a tester: the grace counted from the last heartbeat only, so a consumer that hung
  // (SIGSTOP, no polls) longer than the grace expired the moment it was killed, and started again
  // at once it had lost the records producers wrote over meanwhile.
  TempDir dir;
  CreateOptions options = small_ring(64 * 1024);
  options.consumer_grace = std::chrono::seconds(60);  // far beyond any stall of a loaded machine
  Ring ring = Ring::create(dir / "ring", options);
  std::unique_ptr<ChildProcess> hung = attached_consumer_child(dir / "ring", "hung");
  hung->stop();
  const std::optional<ConsumerInfo> attached = find(ring, "hung");
  REQUIRE(attached.has_value());
  // Hung for two graces: its last heartbeat, as the slot says, that long ago.
  const std::uint64_t stale_heartbeat = detail::realtime_ns() - 2 * 60'000'000'000ull;
  detail::file_of(ring).header().consumers[attached->slot].heartbeat_ns = stale_heartbeat;
  std::atomic<bool> stop_writing{false};
  std::atomic<std::uint64_t> written{0};
  std::thread writer([&] {
    Producer producer(ring);
    while (!stop_writing.load()) {
      if (producer.write(synthetic_payload(1, written.load(), 1000), std::chrono::milliseconds(50)) == ClaimStatus::ok) {
        written.fetch_add(1);
      }
    }
  });
  // Held back by it: a waiting producer checks (every 100 ms) that its process is alive.
  REQUIRE(eventually([&] {
    const std::vector<ProducerInfo> producers = ring.producers();
    return !producers.empty() && producers[0].waiting_since_ns != 0;
  }));
  const std::uint64_t before_kill = detail::realtime_ns();
  hung->kill_hard();
  // The producer's next check finds it dead: expired at once (before), or last seen when it was
  // last seen alive, and held for the grace from there.
  REQUIRE(eventually([&] {
    const std::optional<ConsumerInfo> info = find(ring, "hung");
    return info && (info->expired || info->heartbeat_ns > stale_heartbeat);
  }));
  const std::optional<ConsumerInfo> dead = find(ring, "hung");
  REQUIRE(dead.has_value());
  CHECK_FALSE(dead->expired);
  CHECK(dead->holds_back);
  CHECK(dead->heartbeat_ns + 60'000'000'000ull > before_kill);

  // Started again: nothing lost.
  Consumer back = Consumer::attach(ring, {.name = "hung"});
  std::uint64_t read = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);  // a hang guard only
  while (read < 40 && std::chrono::steady_clock::now() < deadline) {
    back.poll([&](const Record& record) { CHECK(record.producer_sequence == read++); });
    back.wait(std::chrono::milliseconds(10));
  }
  CHECK(read >= 40);
  CHECK(back.stats().lost_bytes == 0);
  stop_writing.store(true);
  writer.join();
}

TEST_CASE("a detached named consumer holds producers back no longer once its grace period, or its expiry, is over") {
  TempDir dir;
  CreateOptions options = small_ring(64 * 1024);
  SUBCASE("the grace period") {
    options.consumer_grace = std::chrono::milliseconds(1);
    Ring ring = Ring::create(dir / "ring", options);
    Consumer::attach(ring, {.name = "billing"}).detach();
    REQUIRE(eventually([&] { return !find(ring, "billing")->holds_back; }));
    CHECK(find(ring, "billing")->expired);  // "no (grace over)" in ringfile-status
    Producer producer(ring);
    for (std::uint64_t sequence = 0; sequence < 200; ++sequence) {
      REQUIRE(producer.write(synthetic_payload(1, sequence, 1000), std::chrono::seconds(60)) == ClaimStatus::ok);
    }
    CHECK(find(ring, "billing")->cursor == 0);
  }
  SUBCASE("a producer already waiting for it goes on once the grace period is over") {
    options.consumer_grace = std::chrono::milliseconds(300);
    Ring ring = Ring::create(dir / "ring", options);
    Consumer::attach(ring, {.name = "billing"}).detach();
    Producer producer(ring);
    // Three laps: the producer fills the ring within the grace (or not, on a slow machine), then
    // waits, and wakes for a look of its own: a detached consumer commits nothing to wake it.
    for (std::uint64_t sequence = 0; sequence < 200; ++sequence) {
      REQUIRE(producer.write(synthetic_payload(1, sequence, 1000), std::chrono::seconds(60)) == ClaimStatus::ok);
    }
    CHECK_FALSE(find(ring, "billing")->holds_back);
  }
  SUBCASE("an expiry shorter than the grace period") {
    options.consumer_grace = std::chrono::hours(1);
    Ring ring = Ring::create(dir / "ring", options);
    Consumer::attach(ring, {.name = "billing", .expire_after = std::chrono::milliseconds(1)}).detach();
    REQUIRE(eventually([&] { return find(ring, "billing")->past_expiry; }));
    CHECK_FALSE(find(ring, "billing")->holds_back);
    Producer producer(ring);
    for (std::uint64_t sequence = 0; sequence < 200; ++sequence) {
      REQUIRE(producer.write(synthetic_payload(1, sequence, 1000), std::chrono::seconds(60)) == ClaimStatus::ok);
    }
  }
}

TEST_CASE("block: a named consumer among the oldest records of a wrapped ring holds producers there once detached, or reset there") {
  // Found by a tester: producers keep what lies a group's span behind a cursor, which for a cursor
  // among the oldest records is gone already. Such a cursor was taken for one producers had passed:
  // detached, it held nothing (a restart within the grace lost a lap), and a reset to it moved it
  // to the oldest record, or back, and said it had been overwritten.
  TempDir dir;
  const std::uint64_t capacity = 64 * 1024;
  CreateOptions options = small_ring(capacity);
  options.consumer_grace = std::chrono::hours(1);
  Ring ring = Ring::create(dir / "ring", options);
  Producer producer(ring);
  const std::uint64_t laps_written = 3 * capacity / 240;  // records of 200 bytes, 240 a frame
  const std::vector<std::uint64_t> positions = write_records(producer, laps_written, 200);
  // The fifth oldest record: well within a group's span (a frame of the largest record) of the oldest.
  const auto oldest = std::find_if(positions.begin(), positions.end(),
                                   [&](std::uint64_t position) { return position + capacity >= ring.head_position(); });
  REQUIRE(positions.end() - oldest > 5);
  const std::uint64_t fifth_oldest = oldest[4];
  const std::uint64_t fifth_oldest_sequence = static_cast<std::uint64_t>(oldest - positions.begin()) + 4;

  SUBCASE("detached after reading from the oldest record") {
    {
      Consumer reader = Consumer::attach(ring, {.name = "ledger", .seek = Seek::earliest()});
      CHECK(reader.poll([](const Record&) {}, 4).records == 4);
      CHECK(reader.position() == fifth_oldest);
    }
  }
  SUBCASE("reset to a record among the oldest") {
    Consumer::attach(ring, {.name = "ledger"}).detach();  // at the head
    const CursorReset reset = reset_consumer(ring, "ledger", Seek::to_position(fifth_oldest));
    CHECK(reset.to == fifth_oldest);
    CHECK_FALSE(reset.moved_past_overwritten);
  }
  REQUIRE(find(ring, "ledger")->holds_back);
  // Producers stop a lap after its cursor (less what they keep behind it), not a lap after the head.
  std::uint64_t written = laps_written;
  while (producer.write(synthetic_payload(1, written, 200), std::chrono::nanoseconds(0)) == ClaimStatus::ok) {
    written += 1;
    REQUIRE(written < 2 * laps_written);
  }
  CHECK(ring.head_position() <= fifth_oldest + capacity);

  Consumer back = Consumer::attach(ring, {.name = "ledger"});
  std::uint64_t expected = fifth_oldest_sequence;
  back.poll([&](const Record& record) { CHECK(record.producer_sequence == expected++); });
  CHECK(expected == written);
  CHECK(back.stats().lost_bytes == 0);
  CHECK(back.stats().lapped_count == 0);
}
