// A ring file truncated while the programs have it mapped: each program that touches a page past
// the new end exits 1 with one line naming the file and both sizes, none dies of SIGBUS
// (docs/truncation.md).
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "ringfile/ring.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

using namespace ringfile;
using namespace ringfile::program_test;

namespace {

constexpr std::uint64_t kHeaderBytes = 64 * 1024;

void check_reported(Program& program, const std::string& path, std::uint64_t truncated_to) {
  const int exit_code = program.wait();
  INFO(program.err());
  CHECK(exit_code == 1);  // not 128 + SIGBUS
  CHECK(program.err().find("'" + path + "' was truncated to " + std::to_string(truncated_to) + " bytes while in use") !=
        std::string::npos);
  CHECK(program.err().find("SIGBUS") == std::string::npos);
}

// A producer writing, a consumer following and verifying, and ringfile-status sampling, all
// until the ring is truncated under them.
struct RunningPrograms {
  std::unique_ptr<Program> producer, consumer, status;

  RunningPrograms(const WorkDir& dir, const std::string& path) {
    REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
    consumer = std::make_unique<Program>(kConsumer, std::vector<std::string>{path, "--name", "reader", "--verify", "--quiet"},
                                         dir.path());
    status = std::make_unique<Program>(kStatus, std::vector<std::string>{path, "--watch", "--interval", "20ms"}, dir.path());
    Ring ring = Ring::open(path, {.read_only = true});
    REQUIRE(eventually([&] { const auto consumers = ring.consumers(); return !consumers.empty() && consumers.front().alive; }));
    producer = std::make_unique<Program>(
        kProducer, std::vector<std::string>{path, "--synthetic", "--record-size", "64-2K", "--rate", "20M", "--quiet"},
        dir.path());
    // Running: the head has gone round the ring at least once, and the consumer follows.
    REQUIRE(eventually([&] { return ring.head_position() > 2 * ring.info().capacity_bytes; }));
    REQUIRE(status->running());
  }
};

}  // namespace

TEST_CASE("a ring truncated to nothing under a producer, a consumer and ringfile-status: each exits 1 saying so") {
  WorkDir dir;
  const std::string path = dir / "ring";
  RunningPrograms programs(dir, path);
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  // Each touches the header within moments: the producer at its next claim, the consumer at its
  // next look at the head, the status at its next sample.
  check_reported(*programs.producer, path, 0);
  check_reported(*programs.consumer, path, 0);
  check_reported(*programs.status, path, 0);
}

TEST_CASE("a ring's data area truncated under a running producer: it exits 1 saying so") {
  WorkDir dir;
  const std::string path = dir / "ring";
  RunningPrograms programs(dir, path);
  const std::uint64_t kept = kHeaderBytes + 64 * 1024;
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(kept)) == 0);
  // The producer writes round the whole data area, so it soon writes past the new end.
  check_reported(*programs.producer, path, kept);
  // The consumer follows it: it meets a page past the end and says so, or reads every record
  // before the new end, waits at the head, and notices there.
  check_reported(*programs.consumer, path, kept);
  // The status reads no page past the end (the header still reads), but notices at its next
  // sample that the file is shorter than its header says.
  check_reported(*programs.status, path, kept);
}

TEST_CASE("ringfile-producer --json still prints its summary when the ring is truncated under it") {
  // The truncation ends the producer in its SIGBUS handler: README promises the summary when a
  // run fails too, and it was missing there.
  WorkDir dir;
  const std::string path = dir / "ring";
  REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  Ring ring = Ring::open(path, {.read_only = true});
  Program producer(kProducer, {path, "--synthetic", "--rate", "20M", "--duration", "60s", "--json"}, dir.path());
  REQUIRE(eventually([&] { return ring.head_position() > 2 * ring.info().capacity_bytes; }));
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  check_reported(producer, path, 0);
  INFO(producer.out());
  const JsonValue summary = JsonValue::parse(producer.out());
  CHECK(summary["exit_code"].as_uint() == 1);
  CHECK(summary["records"].as_uint() > 0);
  CHECK(summary["processes"].as_uint() == 1);
  CHECK(summary["seconds"].as_double() > 0);
}

TEST_CASE("ringfile-consumer --json prints its summary when the ring is truncated under it, however it notices") {
  // It notices in its SIGBUS handler (a page past the new end) or at a look at the header: the
  // summary was missing in the first case (found by a tester, 4 runs in 6).
  WorkDir dir;
  const std::string path = dir / "ring";
  REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  Ring ring = Ring::open(path, {.read_only = true});
  Program consumer(kConsumer, {path, "--name", "reader", "--verify", "--json"}, dir.path());
  REQUIRE(eventually([&] { const auto consumers = ring.consumers(); return !consumers.empty() && consumers.front().alive; }));
  Program producer(kProducer, {path, "--synthetic", "--rate", "20M", "--duration", "60s", "--quiet"}, dir.path());
  REQUIRE(eventually([&] { return ring.head_position() > 2 * ring.info().capacity_bytes; }));
  REQUIRE(::truncate(path.c_str(), 0) == 0);
  check_reported(consumer, path, 0);
  check_reported(producer, path, 0);
  INFO(consumer.out());
  const JsonValue summary = JsonValue::parse(consumer.out());
  CHECK(summary["exit_code"].as_uint() == 1);
  CHECK(summary["records"].as_uint() > 0);
  CHECK(summary["position"].as_uint() > 0);
  CHECK(summary["seconds"].as_double() > 0);
  CHECK(summary["damaged_skipped"].as_uint() == 0);  // every key of a summary, on either path
  // --verify's object too (found missing by a review helper): what it checked before the end.
  const JsonValue& verify = summary["verify"];
  // The verifier counts a record as it starts to check it; the consumer once it is handled: a
  // SIGBUS in the middle of the check leaves one more in the first.
  CHECK(verify["records"].as_uint() >= summary["records"].as_uint());
  CHECK(verify["records"].as_uint() <= summary["records"].as_uint() + 1);
  CHECK(verify["producers"].as_uint() == 1);
  CHECK(verify["corrupt"].as_uint() == 0);
  CHECK(verify["duplicates"].as_uint() == 0);
  CHECK(verify["lost_bytes"].as_uint() == summary["lost_bytes"].as_uint());
}

TEST_CASE("a ring truncated under a producer of records of 64 KiB, which it writes with pwrite(): it exits 1 saying so, and the file stays short") {
  // pwrite() past the new end extends the file again instead of faulting: unchecked, the producer
  // went on, exit 0, with a hole where the records were cut off, and the file grew back whole.
  WorkDir dir;
  const std::string path = dir / "ring";
  REQUIRE(run(kProducer, {path, "--create", "--size", "4M", "--count", "0"}, dir.path()).exit_code == 0);
  Ring ring = Ring::open(path, {.read_only = true});
  const std::uint64_t declared = ring.info().file_bytes;
  Program producer(kProducer,
                   {path, "--synthetic", "--record-size", "64K", "--rate", "20M", "--duration", "60s", "--quiet"},
                   dir.path());
  REQUIRE(eventually([&] { return ring.head_position() > 2 * ring.info().capacity_bytes; }));
  const std::uint64_t kept = kHeaderBytes + 64 * 1024;
  REQUIRE(::truncate(path.c_str(), static_cast<off_t>(kept)) == 0);
  const int exit_code = producer.wait();
  INFO(producer.err());
  CHECK(exit_code == 1);
  // The size named is the cut's, or a little more where the cut came in the middle of a write.
  CHECK(producer.err().find("'" + path + "' was truncated to ") != std::string::npos);
  CHECK(producer.err().find("SIGBUS") == std::string::npos);
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK(static_cast<std::uint64_t>(status.st_size) < declared);
}

// Not a truncation, the other way a ring file changes under its readers: removed, and another
// created at its path. A consumer that said nothing followed the old file (found by a tester).
TEST_CASE("a consumer whose ring is removed and created again at its path says so, and reads on") {
  WorkDir dir;
  const std::string path = dir / "ring";
  REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  Program consumer(kConsumer, {path, "--discard"}, dir.path());
  {
    Ring old_ring = Ring::open(path, {.read_only = true});
    REQUIRE(eventually([&] { return !old_ring.consumers().empty(); }));
  }
  REQUIRE(::unlink(path.c_str()) == 0);
  REQUIRE(run(kProducer, {path, "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
  const std::string warning = "'" + path + "' no longer names the ring this consumer reads";
  REQUIRE(eventually([&] { return consumer.err().find(warning) != std::string::npos; }));
  CHECK(consumer.running());
  consumer.signal(SIGTERM);
  CHECK(consumer.wait() == 0);
}
