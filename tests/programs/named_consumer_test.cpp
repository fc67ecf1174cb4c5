// A named consumer keeps its cursor in the ring: stopped and restarted, it continues exactly
// where it committed, whether it stopped at --count or on SIGTERM.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/mount.h>
#include <sys/xattr.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <algorithm>
#include <string>
#include <utility>

#include <ringfile/consumer.hpp>
#include <ringfile/ring.hpp>

#include "output_resume_point.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

std::string numbered_lines(int first, int last) {
  std::string text;
  for (int number = first; number <= last; ++number) text += "record-" + std::to_string(number) + "\n";
  return text;
}

void produce_lines(const WorkDir& dir, const std::string& ring, int first, int last) {
  write_file(dir / "lines.txt", numbered_lines(first, last));
  const Result produced = run(kProducer, {ring, "--input", dir / "lines.txt", "--quiet"}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
}

std::size_t line_count(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }


// Whether files in `dir` take user extended attributes, where a named consumer notes the place of
// its last commit on its --output (says the test is skipped if not).
bool keeps_user_attributes(const WorkDir& dir) {
  const std::string probe = dir / "probe";
  write_file(probe, "");
  const bool kept = ::setxattr(probe.c_str(), "user.ringfile-test", "1", 1, 0) == 0;
  if (!kept) MESSAGE("skipped: " << dir.path() << " keeps no user extended attributes (" << std::strerror(errno) << ")");
  std::filesystem::remove(probe);
  return kept;
}

// Notes on `out` what a run of consumer `name` killed right after a commit leaves there: the
// consumer's saved cursor, with the file's size then, `committed_bytes`.
void note_commit_on_output(const std::string& ring, const std::string& name, const std::string& out,
                           std::uint64_t committed_bytes) {
  std::uint64_t cursor = 0;
  const ringfile::Ring opened = ringfile::Ring::open(ring);
  for (const ringfile::ConsumerInfo& consumer : opened.consumers()) {
    if (consumer.name == name) cursor = consumer.cursor;
  }
  REQUIRE(cursor > 0);
  const std::string point =
      ringfile::consumer::encode_resume_point({opened.info().creation_time_ns, name}, {cursor, committed_bytes});
  REQUIRE(::setxattr(out.c_str(), "user.ringfile.resume", point.data(), point.size(), 0) == 0);
}

}  // namespace

TEST_CASE("a named consumer stopped and restarted continues exactly where it committed") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  produce_lines(dir, ring, 1, 300);

  // Stopped by --count.
  const Result first = run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "100"}, dir.path());
  REQUIRE(first.exit_code == 0);
  CHECK(first.out == numbered_lines(1, 100));
  const Result second = run(kConsumer, {ring, "--name", "billing", "--count", "100"}, dir.path());
  REQUIRE(second.exit_code == 0);
  CHECK(second.out == numbered_lines(101, 200));

  // Stopped by SIGTERM while following: everything it wrote out is committed, nothing more.
  {
    Program following(kConsumer, {ring, "--name", "billing", "--output", dir / "third.txt"}, dir.path());
    REQUIRE(eventually([&] { return line_count(read_file(dir / "third.txt")) == 100; }));
    following.signal(SIGTERM);
    INFO(following.err());
    CHECK(following.wait() == 0);
    CHECK(read_file(dir / "third.txt") == numbered_lines(201, 300));
  }
  const StatusConsumer stopped = status_of(ring, dir.path()).consumer("billing");
  CHECK(stopped.state == "DETACHED");
  CHECK(stopped.lag_bytes == 0);

  produce_lines(dir, ring, 301, 350);
  const Result fourth = run(kConsumer, {ring, "--name", "billing", "--count", "50"}, dir.path());
  REQUIRE(fourth.exit_code == 0);
  CHECK(fourth.out == numbered_lines(301, 350));
  CHECK(status_of(ring, dir.path()).consumer("billing").lag_bytes == 0);
}

// Found by a tester: a clean stop let producers go at once (a SIGKILLed consumer held them for its
// grace period), so that a consumer stopped and started again straight away lost records.
TEST_CASE("a named consumer stopped with SIGTERM and started again within its grace period loses nothing") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  // A long grace: the test's steps may take seconds on a loaded machine.
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--consumer-grace", "10m", "--count", "0"}, dir.path())
              .exit_code == 0);
  {
    Program following(kConsumer, {ring, "--name", "billing", "--discard"}, dir.path());
    REQUIRE(eventually([&] {
      const std::vector<StatusConsumer> consumers = status_of(ring, dir.path()).consumers;
      return !consumers.empty() && consumers.front().alive;
    }));
    following.signal(SIGTERM);
    REQUIRE(following.wait() == 0);
  }
  REQUIRE(status_of(ring, dir.path()).consumer("billing").state == "DETACHED");
  // Twice the ring: the producer fills it and waits for the detached consumer's return.
  Program producer(kProducer, {ring, "--synthetic", "--record-size", "512", "--count", "4000", "--quiet"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).producers_waiting == 1; }));
  const Result back =
      run(kConsumer, {ring, "--name", "billing", "--verify", "--count", "4000", "--json"}, dir.path());
  INFO(back.err);
  CHECK(back.exit_code == 0);
  CHECK(producer.wait() == 0);
  const JsonValue summary = JsonValue::parse(back.out);
  CHECK(summary["records"].as_uint() == 4000);
  CHECK(summary["lost_bytes"].as_uint() == 0);
  CHECK(summary["verify"]["ok"].as_bool());
  CHECK(summary["verify"]["missing"].as_uint() == 0);
}

// Found by a tester: consumers SIGKILLed at random moments wrote up to a batch of records twice
// into their --output (written out, the cursor not yet committed past them). The file a run killed
// there leaves is made here by hand: what the last run committed, the place of that commit noted
// on the file (a run that ends cleanly removes it), then records past its cursor.
TEST_CASE("a named consumer killed after writing records out, before committing them, writes them once on restart") {
  WorkDir dir;
  const std::string out = dir / "out.txt";
  // The place of the last commit is kept as an extended attribute of the output file.
  if (!keeps_user_attributes(dir)) return;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  produce_lines(dir, ring, 1, 300);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "100", "--output", out},
              dir.path())
              .exit_code == 0);
  REQUIRE(read_file(out) == numbered_lines(1, 100));
  char left[256];
  REQUIRE(::getxattr(out.c_str(), "user.ringfile.resume", left, sizeof left) < 0);  // ended cleanly
  note_commit_on_output(ring, "billing", out, numbered_lines(1, 100).size());
  write_file(out, numbered_lines(1, 100) + numbered_lines(101, 130) + "record-1");  // the last one torn

  const Result restarted = run(kConsumer, {ring, "--name", "billing", "--count", "200", "--output", out}, dir.path());
  INFO(restarted.err);
  CHECK(restarted.exit_code == 0);
  CHECK(read_file(out) == numbered_lines(1, 300));
  CHECK(restarted.err.find("its last run was stopped after writing 338 bytes of records to '" + out +
                           "' past its saved cursor; cut them off") != std::string::npos);
  // Ended cleanly again: nothing to cut, so bytes appended after it stay (a script's marker).
  write_file(out, read_file(out) + "-- marker --\n");
  produce_lines(dir, ring, 301, 302);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--count", "2", "--output", out}, dir.path()).exit_code == 0);
  CHECK(read_file(out) == numbered_lines(1, 300) + "-- marker --\n" + numbered_lines(301, 302));

  // Replaced (--from), the file starts anew, and an earlier run's place cuts nothing of it.
  produce_lines(dir, ring, 303, 310);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "-5", "--count", "5", "--output", out}, dir.path())
              .exit_code == 0);
  CHECK(read_file(out) == numbered_lines(306, 310));
}

// Where producers may overwrite what it has not committed (overwrite policy, --no-hold), records
// cut off might be nowhere else any more: its output is never cut (found in review).
TEST_CASE("a named consumer producers may lap never cuts its output back") {
  WorkDir dir;
  const std::string out = dir / "out.txt";
  if (!keeps_user_attributes(dir)) return;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--policy", "overwrite", "--count", "0"}, dir.path())
              .exit_code == 0);
  produce_lines(dir, ring, 1, 20);
  REQUIRE(run(kConsumer, {ring, "--name", "tap", "--from", "earliest", "--count", "10", "--output", out}, dir.path())
              .exit_code == 0);
  note_commit_on_output(ring, "tap", out, numbered_lines(1, 10).size());
  write_file(out, numbered_lines(1, 10) + numbered_lines(11, 12));
  REQUIRE(run(kConsumer, {ring, "--name", "tap", "--count", "10", "--output", out}, dir.path()).exit_code == 0);
  CHECK(read_file(out) == numbered_lines(1, 12) + numbered_lines(11, 20));
}

// Its cursor is past what the last run wrote out: a file replaced at the restart would lose those
// records for good (the README's example of a named consumer writes to a file).
TEST_CASE("a named consumer restarted with --output FILE adds to what its last run wrote there") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--count", "0"}, dir.path()).exit_code == 0);
  const std::string orders = dir / "orders.txt";
  for (const auto& [first, last] : {std::pair{1, 20}, std::pair{21, 30}}) {
    produce_lines(dir, ring, first, last);
    const Result read = run(kConsumer, {ring, "--name", "billing", "--output", orders, "--until-idle", "100ms"}, dir.path());
    INFO(read.err);
    REQUIRE(read.exit_code == 0);
  }
  CHECK(read_file(orders) == numbered_lines(1, 30));
  // Told to start elsewhere, it writes afresh, as an anonymous consumer does (which has nothing to
  // resume): the file is replaced, unless told --append.
  CHECK(run(kConsumer, {ring, "--name", "billing", "--from", "-2", "--output", orders, "--until-idle", "100ms"}, dir.path())
            .exit_code == 0);
  CHECK(read_file(orders) == numbered_lines(29, 30));
  CHECK(run(kConsumer, {ring, "--from", "-1", "--output", orders, "--until-idle", "100ms"}, dir.path()).exit_code == 0);
  CHECK(read_file(orders) == numbered_lines(30, 30));
}

TEST_CASE("a name attached by a live consumer is refused, naming its process") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  Program holder(kConsumer, {ring, "--name", "billing", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));

  const Result second = run(kConsumer, {ring, "--name", "billing", "--discard"}, dir.path());
  CHECK(second.exit_code == 1);
  CHECK(second.err.find("consumer 'billing' is attached by live process " + std::to_string(holder.pid())) !=
        std::string::npos);
  holder.signal(SIGINT);
  CHECK(holder.wait() == 0);
}

TEST_CASE("a named consumer returning after producers overwrote its place reports that loss as this run's") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "64K", "--consumer-grace", "1ms", "--count", "0"}, dir.path())
              .exit_code == 0);
  // Detached past its grace (1 ms here), a named consumer holds nothing back: three laps go over
  // its saved cursor.
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--count", "0"}, dir.path()).exit_code == 0);
  REQUIRE(run(kProducer, {ring, "--synthetic", "--record-size", "512", "--count", "400", "--quiet"}, dir.path())
              .exit_code == 0);
  // --verify passes it: those records went while it held nobody back (it failed it, as a loss
  // "under the block policy for a consumer that holds producers back", found by a tester).
  const Result returned =
      run(kConsumer, {ring, "--name", "billing", "--verify", "--until-idle", "200ms", "--json"}, dir.path());
  INFO(returned.err);
  REQUIRE(returned.exit_code == 0);
  // Before, the loss found at attach was taken for one of an earlier run and left out: 0 bytes.
  const JsonValue summary = JsonValue::parse(returned.out);
  CHECK(summary["lost_bytes"].as_uint() > 0);
  CHECK(summary["lost_bytes"].as_uint() ==
        JsonValue::parse(run(kConsumer, {ring, "--describe", "billing", "--json"}, dir.path()).out)["lost_bytes"].as_uint());
  CHECK(returned.err.find("overwritten before they were read") != std::string::npos);
  CHECK(summary["verify"]["ok"].as_bool());
  CHECK(summary["verify"]["corrupt"].as_uint() == 0);
  CHECK(summary["verify"]["missing"].as_uint() == 0);
}

TEST_CASE("a named consumer whose output's disk fills up leaves no torn record and, resumed, no record twice") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "4M", "--count", "0"}, dir.path()).exit_code == 0);
  produce_lines(dir, ring, 1, 20000);
  // A small tmpfs of our own for the output; mounting needs root (CAP_SYS_ADMIN), else skip.
  const std::string disk = dir / "disk";
  std::filesystem::create_directory(disk);
  if (::mount("ringfile-test", disk.c_str(), "tmpfs", 0, "size=512k") != 0) {
    MESSAGE("skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  const std::string filler = disk + "/filler";
  write_file(filler, std::string(448 * 1024, 'x'));  // 64 KiB left: a third of the records' lines
  const std::string out = disk + "/out.txt";

  // Found by a tester: the write the disk could not take whole left half a record in the file,
  // and the records written after the last commit were written again by the next run.
  const Result full = run(kConsumer, {ring, "--name", "archive", "--from", "earliest", "--output", out, "--quiet"},
                          dir.path());
  CHECK(full.exit_code == 1);
  CHECK(full.err.find("No space left on device; the output ends with the last whole record written") !=
        std::string::npos);
  const std::string partial = read_file(out);
  CHECK_FALSE(partial.empty());
  CHECK(partial.back() == '\n');
  CHECK(numbered_lines(1, 20000).compare(0, partial.size(), partial) == 0);  // a whole prefix, in order

  std::filesystem::remove(filler);
  const std::size_t rest = 20000 - line_count(partial);
  const Result resumed =
      run(kConsumer, {ring, "--name", "archive", "--output", out, "--count", std::to_string(rest), "--quiet"}, dir.path());
  INFO(resumed.err);
  CHECK(resumed.exit_code == 0);
  CHECK(read_file(out) == numbered_lines(1, 20000));
  ::umount2(disk.c_str(), MNT_DETACH);
}

TEST_CASE("a named consumer's consumed count goes on across its runs, as its lost counts do") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  produce_lines(dir, ring, 1, 5);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "5", "--discard"}, dir.path())
              .exit_code == 0);
  produce_lines(dir, ring, 6, 8);
  const Result second = run(kConsumer, {ring, "--name", "billing", "--count", "3", "--discard", "--json"}, dir.path());
  REQUIRE(second.exit_code == 0);
  CHECK(JsonValue::parse(second.out)["records"].as_uint() == 3);  // this run's
  // Found by a tester: it said 3, the last run's alone.
  const Result described = run(kConsumer, {ring, "--describe", "billing", "--json"}, dir.path());
  REQUIRE(described.exit_code == 0);
  CHECK(JsonValue::parse(described.out)["consumed_records"].as_uint() == 8);
}
