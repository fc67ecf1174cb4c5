// The write journal of `ringfile-bridge in`, at the moments a crash can interrupt it: between the
// journal's begin and the ring commit, and between the commit and the journal's complete. Killing
// the bridge rarely lands in those microseconds, so they are set up here one by one.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include "ringfile/consumer.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/program.hpp"
#include "support/work_dir.hpp"
#include "write_journal.hpp"

using namespace ringfile;
using ringfile::bridge::JournalRecovery;
using ringfile::bridge::WriteJournal;
using ringfile::program_test::WorkDir;

namespace {

Ring small_ring(const WorkDir& dir, const char* name = "far.ring") {
  return Ring::create(dir / name, {.capacity_bytes = 64 * 1024});
}

std::span<const std::byte> bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Writes stream message `sequence` as the bridge does; `commit` false leaves the claim open, as a
// process killed before its commit does.
void write(WriteJournal& journal, Producer& producer, std::uint64_t sequence, const std::string& payload,
           bool commit = true, bool complete = true) {
  const ClaimResult claim = producer.claim(payload.size(), std::chrono::seconds(1));
  REQUIRE(claim);
  journal.begin(sequence, claim.position, payload.size());
  std::copy(bytes_of(payload).begin(), bytes_of(payload).end(), claim.buffer.begin());
  if (!commit) return;
  REQUIRE(producer.commit() == ClaimStatus::ok);
  if (complete) journal.complete(sequence);
}

}  // namespace

TEST_CASE("write journal: a new file, then the last sequence written survives the process") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "state");
    const JournalRecovery recovery = journal.recover(ring);
    CHECK(recovery.new_ring);
    CHECK(recovery.written == 0);
    Producer producer(ring);
    write(journal, producer, 7, "seven");
    write(journal, producer, 9, "nine");
  }
  WriteJournal reopened(dir / "state");
  const JournalRecovery recovery = reopened.recover(ring);
  CHECK_FALSE(recovery.new_ring);
  CHECK_FALSE(recovery.interrupted);
  CHECK(recovery.written == 9);
}

TEST_CASE("write journal: a record committed just before a crash is recognised, and not written again") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "state");
    journal.recover(ring);
    Producer producer(ring);
    write(journal, producer, 1, "one");
    write(journal, producer, 2, "two", /*commit=*/true, /*complete=*/false);  // the crash
  }
  WriteJournal journal(dir / "state");
  const JournalRecovery recovery = journal.recover(ring);
  CHECK(recovery.interrupted);
  CHECK(recovery.interrupted_written);
  CHECK(recovery.written == 2);
  CHECK(journal.written() == 2);
}

TEST_CASE("write journal: a record claimed but never committed is written again, even once padded over") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  std::uint64_t claimed_end = 0;
  {
    WriteJournal journal(dir / "state");
    journal.recover(ring);
    Producer producer(ring);
    write(journal, producer, 1, "one");
    write(journal, producer, 2, "two", /*commit=*/false);  // the crash, claim left open
    claimed_end = ring.head_position();
  }
  // The producer is gone (its destructor padded the claim over, as a consumer does for a dead
  // producer's claim); another producer has written after it meanwhile.
  Producer other(ring);
  REQUIRE(other.write(bytes_of("someone else")) == ClaimStatus::ok);
  CHECK(ring.head_position() > claimed_end);
  WriteJournal journal(dir / "state");
  const JournalRecovery recovery = journal.recover(ring);
  CHECK(recovery.interrupted);
  CHECK_FALSE(recovery.interrupted_written);
  CHECK_FALSE(recovery.undecidable);
  CHECK(recovery.written == 1);
}

TEST_CASE("write journal: a ring overwritten a whole lap since the crash cannot tell, and says so") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "state");
    journal.recover(ring);
    Producer producer(ring);
    write(journal, producer, 1, "one");
    write(journal, producer, 2, "two", /*commit=*/false);
  }
  Producer other(ring);
  const std::string filler(1000, 'x');
  while (ring.head_position() < 3 * ring.info().capacity_bytes) REQUIRE(other.write(bytes_of(filler)) == ClaimStatus::ok);
  WriteJournal journal(dir / "state");
  const JournalRecovery recovery = journal.recover(ring);
  CHECK(recovery.undecidable);
  CHECK(recovery.written == 1);
}

TEST_CASE("write journal: a state about another ring starts afresh, and a second bridge on it is refused") {
  WorkDir dir;
  Ring first = small_ring(dir, "first.ring");
  {
    WriteJournal journal(dir / "state");
    journal.recover(first);
    Producer producer(first);
    write(journal, producer, 5, "five");
  }
  Ring second = small_ring(dir, "second.ring");
  WriteJournal journal(dir / "state");
  CHECK_THROWS_AS(WriteJournal(dir / "state"), programs::RuntimeFailure);
  const JournalRecovery recovery = journal.recover(second);
  CHECK(recovery.new_ring);
  CHECK(recovery.written == 0);
}

TEST_CASE("write journal: a file that is not a state file is refused with its name, and stays") {
  WorkDir dir;
  program_test::write_file(dir / "state", std::string(4096, 'z'));
  try {
    WriteJournal journal(dir / "state");
    FAIL("accepted a file of z's");
  } catch (const programs::RuntimeFailure& failure) {
    CHECK(std::string(failure.what()).find("is not a ringfile-bridge state file") != std::string::npos);
  }
  CHECK(program_test::read_file(dir / "state") == std::string(4096, 'z'));
}

// `in --create` whose ring cannot be created removes the state file it made for it, and only that.
TEST_CASE("write journal: remove_if_created removes a file it created and nothing used or found there") {
  WorkDir dir;
  {
    WriteJournal journal(dir / "made");
    journal.remove_if_created();
    CHECK_FALSE(std::filesystem::exists(dir / "made"));
    // Removed while still locked: a bridge opening the path now gets a file of its own.
    WriteJournal next(dir / "made");
    CHECK(std::filesystem::exists(dir / "made"));
  }
  program_test::write_file(dir / "found", "");  // empty, as a bridge that stopped before sizing it
  {
    WriteJournal journal(dir / "found");
    journal.remove_if_created();
  }
  CHECK(std::filesystem::exists(dir / "found"));
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "used");
    journal.recover(ring);
    journal.remove_if_created();
  }
  CHECK(std::filesystem::exists(dir / "used"));
}

// The other side of remove_if_created: a bridge that opened the path just before the file's
// creator removed it and let go of the lock must not go on with the removed file, which the path
// no longer names, while another bridge makes and locks a new one there: two bridges on one state.
TEST_CASE("write journal: a file removed between its open and its lock is opened again by its name") {
  WorkDir dir;
  const std::filesystem::path path = dir / "state";
  std::optional<WriteJournal> creator(std::in_place, path);  // made the file, holds its lock
  std::optional<WriteJournal> next_bridge;
  bool next_bridge_starts = false;
  SUBCASE("nobody else there") {}
  SUBCASE("another bridge makes a new file meanwhile") { next_bridge_starts = true; }
  std::uint32_t opens = 0;
  const auto creator_gives_up = [&] {
    opens += 1;
    if (opens != 1) return;
    creator->remove_if_created();
    creator.reset();  // lets go of the lock
    if (next_bridge_starts) next_bridge.emplace(path);
  };
  if (next_bridge_starts) {
    CHECK_THROWS_AS(WriteJournal(path, creator_gives_up), programs::RuntimeFailure);
    CHECK(opens == 2);
    return;
  }
  WriteJournal journal(path, creator_gives_up);
  CHECK(opens == 2);
  CHECK(std::filesystem::exists(path));
  // The lock is on the file the path names.
  CHECK_THROWS_AS(WriteJournal{path}, programs::RuntimeFailure);
}

TEST_CASE("write journal: sequences no stream reaches are a damaged file, named, not a durable JetStream refuses") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "state");
    journal.recover(ring);
    journal.complete(5);
  }
  // written_sequence at offset 24: 2^64 - 1 would have asked JetStream for a durable from 0.
  std::string state = program_test::read_file(dir / "state");
  state.replace(24, 8, std::string(8, '\xff'));
  program_test::write_file(dir / "state", state);
  WriteJournal damaged(dir / "state");
  try {
    damaged.recover(ring);
    FAIL("took sequence 2^64 - 1");
  } catch (const programs::RuntimeFailure& failure) {
    CHECK(std::string(failure.what()) ==
          "'" + (dir / "state") + "' is damaged (it names stream sequence 18446744073709551615, past any stream's); "
          "remove it: the durable's acknowledgements then tell where to go on");
  }
}

TEST_CASE("write journal: the creation time of the stream the ring was fed from is kept across owners") {
  WorkDir dir;
  Ring ring = small_ring(dir);
  {
    WriteJournal journal(dir / "state");
    journal.recover(ring);
    CHECK(journal.stream_creation_time() == 0);  // not noted yet
    journal.note_stream_creation_time(1234567890123);
  }
  WriteJournal reopened(dir / "state");
  reopened.recover(ring);
  CHECK(reopened.stream_creation_time() == 1234567890123u);
}
