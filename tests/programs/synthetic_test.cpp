// Synthetic producers in several processes and rings, checked by a verifying consumer; clean
// stops on SIGTERM on both sides.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <string>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

void create_ring(const WorkDir& dir, const std::string& ring, const std::string& size) {
  const Result created = run(kProducer, {ring, "--create", "--size", size, "--count", "0"}, dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("two synthetic producer processes under the block policy: the verifier sees every record, no loss") {
  WorkDir dir;
  const std::string ring = dir / "synthetic.ring";
  create_ring(dir, ring, "512K");
  Program verifier(kConsumer, {ring, "--name", "verifier", "--verify", "--count", "4000", "--json"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));

  // Variable sizes through a small ring: the producers lap it and wait for the verifier.
  const Result produced = run(kProducer, {ring, "--synthetic", "--procs", "2", "--count", "2000", "--record-size",
                                          "24-2K", "--json"}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
  const JsonValue production = JsonValue::parse(produced.out);
  CHECK(production["records"].as_uint() == 4000);
  CHECK(production["processes"].as_uint() == 2);
  CHECK(has(produced.err, "wrote 4000 records"));

  INFO(verifier.err());
  REQUIRE(verifier.wait() == 0);
  const JsonValue verify = JsonValue::parse(verifier.out())["verify"];
  CHECK(verify["ok"].as_bool());
  CHECK(verify["records"].as_uint() == 4000);
  CHECK(verify["producers"].as_uint() == 2);
  CHECK(verify["gaps"].as_uint() == 0);
  CHECK(verify["missing"].as_uint() == 0);
  CHECK(verify["duplicates"].as_uint() == 0);
  CHECK(verify["corrupt"].as_uint() == 0);
  CHECK(verify["lost_records"].as_uint() == 0);
  CHECK(status_of(ring, dir.path()).head > 512 * 1024);
}

TEST_CASE("producer processes of a parent killed outright stop, as on SIGTERM, rather than write on unwatched") {
  WorkDir dir;
  const std::string ring = dir / "orphans.ring";
  create_ring(dir, ring, "1M");
  Program producers(kProducer, {ring, "--synthetic", "--procs", "2", "--rate", "10000", "--quiet"}, dir.path());
  REQUIRE(eventually([&] {
    const StatusDocument status = status_of(ring, dir.path());
    return status.producers.size() == 2 && status.producers.at(0).alive && status.producers.at(1).alive;
  }));
  producers.signal(SIGKILL);
  CHECK(producers.wait() == 128 + SIGKILL);
  // Before, both went on writing until the machine stopped.
  REQUIRE(eventually([&] {
    const auto slots = status_of(ring, dir.path()).producers;
    return std::none_of(slots.begin(), slots.end(), [](const StatusProducer& slot) { return slot.alive; });
  }));
  // A clean stop: every record they committed is intact, none left half-written.
  const Result verified = run(kConsumer, {ring, "--from", "earliest", "--verify", "--until-idle", "200ms", "--discard",
                                          "--json"}, dir.path());
  INFO(verified.err);
  CHECK(verified.exit_code == 0);
}

TEST_CASE("several PATHs: one producer process per ring, and the parent sums them up") {
  WorkDir dir;
  const std::string first = dir / "first.ring";
  const std::string second = dir / "second.ring";
  create_ring(dir, first, "1M");
  create_ring(dir, second, "1M");
  const Result produced = run(kProducer, {first, second, "--synthetic", "--count", "500", "--json"}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
  const JsonValue production = JsonValue::parse(produced.out);
  CHECK(production["records"].as_uint() == 1000);
  CHECK(production["bytes"].as_uint() == 1000 * 512);
  CHECK(production["processes"].as_uint() == 2);
  for (const std::string& ring : {first, second}) {
    const Result verified = run(kConsumer, {ring, "--from", "earliest", "--verify", "--count", "500", "--json"}, dir.path());
    INFO(ring << ": " << verified.err);
    CHECK(verified.exit_code == 0);
    const JsonValue verify = JsonValue::parse(verified.out)["verify"];
    CHECK(verify["ok"].as_bool());
    CHECK(verify["records"].as_uint() == 500);
    CHECK(verify["producers"].as_uint() == 1);
  }
}

TEST_CASE("--verify fails on records that are not synthetic, with one line naming what it found") {
  WorkDir dir;
  const std::string ring = dir / "text.ring";
  create_ring(dir, ring, "1M");
  write_file(dir / "lines.txt", "not\nsynthetic\nat all, but long enough to be checked\n");
  REQUIRE(run(kProducer, {ring, "--input", dir / "lines.txt"}, dir.path()).exit_code == 0);
  const Result verified = run(kConsumer, {ring, "--from", "earliest", "--verify", "--count", "3", "--quiet"}, dir.path());
  CHECK(verified.exit_code == 1);
  CHECK(verified.err == "ringfile-consumer: verification failed: 3 records from 0 producers: 3 corrupt; records are "
                        "not synthetic, or the ring or a producer is faulty\n");
}

TEST_CASE("SIGTERM stops a producer and a consumer cleanly: every committed record is read, the cursor saved") {
  WorkDir dir;
  const std::string ring = dir / "stop.ring";
  create_ring(dir, ring, "1M");
  Program verifier(kConsumer, {ring, "--name", "verifier", "--verify", "--json"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
  Program producer(kProducer, {ring, "--synthetic", "--rate", "5000", "--json"}, dir.path());
  REQUIRE(eventually([&] {
    const StatusDocument now = status_of(ring, dir.path());
    return !now.producers.empty() && now.producers[0].committed_records >= 50;
  }));
  producer.signal(SIGTERM);
  INFO(producer.err());
  REQUIRE(producer.wait() == 0);
  const std::uint64_t written = JsonValue::parse(producer.out())["records"].as_uint();
  CHECK(written >= 50);

  const std::uint64_t head = status_of(ring, dir.path()).head;
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumer("verifier").position == head; }));
  verifier.signal(SIGTERM);
  INFO(verifier.err());
  REQUIRE(verifier.wait() == 0);
  const JsonValue read = JsonValue::parse(verifier.out());
  CHECK(read["records"].as_uint() == written);
  CHECK(read["verify"]["ok"].as_bool());
  CHECK(read["verify"]["missing"].as_uint() == 0);
  const StatusConsumer saved = status_of(ring, dir.path()).consumer("verifier");
  CHECK(saved.state == "DETACHED");
  CHECK(saved.position == head);
}

TEST_CASE("--paging chooses the strategy of a new ring, and --sync bytes leaves nothing dirty behind") {
  WorkDir dir;
  const std::string ring = dir / "durable.ring";
  const Result created =
      run(kProducer, {ring, "--create", "--size", "1M", "--paging", "punch-hole", "--synthetic", "--count", "200",
                      "--record-size", "1K", "--sync", "bytes:4K", "--quiet"},
          dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  const Result status = run(kStatus, {ring, "--interval", "0", "--json"}, dir.path());
  REQUIRE(status.exit_code == 0);
  const JsonValue document = JsonValue::parse(status.out);
  CHECK(document["paging"].as_string() == "punch-hole");
  // Each flush waited for everything written before it (200 KiB of records): only the header
  // segment (the producer leaving its slot; one 64 KiB folio) can be dirty afterwards.
  CHECK(document["dirty_bytes"].as_uint() <= 65536);

  const Result mismatch = run(kProducer, {ring, "--create", "--size", "1M", "--sync", "interval:0s"}, dir.path());
  CHECK(mismatch.exit_code == 2);
  CHECK(has(mismatch.err, "--sync"));
}

TEST_CASE("--hold-window sets a new ring's window, and status shows it with the memory budget the producers published") {
  WorkDir dir;
  const std::string ring = dir / "paced.ring";
  const Result created = run(kProducer,
                             {ring, "--create", "--size", "4M", "--max-record", "64K", "--paging", "punch-hole",
                              "--hold-window", "1M", "--synthetic", "--count", "100", "--record-size", "1K", "--quiet"},
                             dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  const Result status = run(kStatus, {ring, "--interval", "0", "--json"}, dir.path());
  REQUIRE(status.exit_code == 0);
  const JsonValue document = JsonValue::parse(status.out);
  CHECK(document["hold_window_bytes"].as_uint() == 1 << 20);
  // The producer published its budget before its first record; it stays in the file.
  CHECK(document["resident_budget_bytes"].as_uint() > 0);
  CHECK(document["rings_sharing_memory"].as_uint() >= 1);
  CHECK(has(run(kStatus, {ring, "--interval", "0"}, dir.path()).out, "hold window 1.0 MiB"));

  const Result whole = run(kProducer, {ring, "--create", "--size", "4M", "--hold-window", "ring"}, dir.path());
  CHECK(whole.exit_code == 1);
  CHECK(has(whole.err, "hold window 1.0 MiB (asked ring)"));
  const Result bad = run(kProducer, {ring, "--create", "--size", "4M", "--hold-window", "lots"}, dir.path());
  CHECK(bad.exit_code == 2);
  CHECK(has(bad.err, "'lots' is not auto, ring or a size"));
  const Result too_small = run(kProducer, {dir / "tiny.ring", "--create", "--size", "4M", "--hold-window", "4K"}, dir.path());
  CHECK(too_small.exit_code == 2);
  CHECK(has(too_small.err, "is below two maximum-size records"));
}

TEST_CASE("--create takes an existing ring made with the same --paging and --mode, and refuses other ones") {
  WorkDir dir;
  const std::string ring = dir / "made.ring";
  // zero-range falls back to punch-hole or prefetch where the filesystem lacks it: the same
  // command run again must still take the ring it made.
  const std::vector<std::string> create{ring, "--create", "--size", "1M", "--paging", "zero-range", "--mode", "0600",
                                        "--count", "0"};
  const Result first = run(kProducer, create, dir.path());
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  const Result again = run(kProducer, create, dir.path());
  INFO(again.err);
  CHECK(again.exit_code == 0);
  const Result automatic = run(kProducer, {ring, "--create", "--size", "1M", "--paging", "automatic", "--count", "0"}, dir.path());
  CHECK(automatic.exit_code == 0);

  const Result other = run(kProducer, {ring, "--create", "--size", "1M", "--paging", "none", "--mode", "0644"}, dir.path());
  CHECK(other.exit_code == 1);
  CHECK(has(other.err, "already exists with other parameters: paging "));
  CHECK(has(other.err, " (asked none), mode 0600 (asked 0644); use the existing parameters"));
}
