// ring -> JetStream -> ring through `ringfile-bridge out` and `in`: payloads byte-identical and in
// order, whatever they hold.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "ringfile/ring.hpp"
#include "support/bridge_run.hpp"
#include "support/json_value.hpp"
#include "support/payloads.hpp"

using namespace ringfile::bridge_test;
using namespace ringfile::program_test;

TEST_CASE("text, empty and maximum-size binary records cross ring -> JetStream -> ring byte-identical, in order") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 3);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  constexpr std::size_t kMaxRecord = 1024 * 1024;  // the rings' largest record; NATS takes 2 MiB here

  std::mt19937_64 random(20240610);
  std::string frames;
  std::size_t records = 0;
  const auto add = [&](const std::string& payload) {
    frames += frame(payload);
    records += 1;
  };
  for (int round = 0; round < 400; ++round) {
    add("line " + std::to_string(round) + "\twith a tab, Grüße, 世界");
    add("");
    add(random_bytes(random, random() % 4096));
    if (round % 20 == 0) add(random_bytes(random, kMaxRecord));
    if (round % 50 == 0) add(std::string("\0\r\n\0", 4));
  }
  write_file(dir / "input.frames", frames);
  create_ring(dir, near_ring, {"--size", "64M", "--max-record", "1M"});
  const Result produced = run(kProducer, {near_ring, "--input", dir / "input.frames", "--format", "frames", "--quiet"},
                              dir.path());
  REQUIRE(produced.exit_code == 0);

  const std::string count = std::to_string(records);
  Program out(kBridge, {"out", near_ring, "--nats", cluster.urls(), "--stream", "ROUNDTRIP", "--subject", "ring.near",
                        "--replicas", "3", "--from", "earliest", "--count", count, "--json", "--quiet"},
              dir.path());
  INFO("out: " << out.err());
  REQUIRE(out.wait(std::chrono::seconds(120)) == 0);
  const JsonValue published = JsonValue::parse(out.out());
  CHECK(published["acknowledged"].as_uint() == records);
  CHECK(published["in_flight"].as_uint() == 0);
  CHECK(cluster.stream_messages("ROUNDTRIP") == records);

  Program in(kBridge, {"in", far_ring, "--create", "--size", "64M", "--max-record", "1M", "--nats", cluster.urls(),
                       "--stream", "ROUNDTRIP", "--durable", "far", "--count", count, "--json", "--quiet"},
             dir.path());
  INFO("in: " << in.err());
  REQUIRE(in.wait(std::chrono::seconds(120)) == 0);
  const JsonValue written = JsonValue::parse(in.out());
  CHECK(written["records"].as_uint() == records);
  CHECK(written["acknowledged"].as_uint() == records);

  const Result read = run(kConsumer, {far_ring, "--from", "earliest", "--format", "frames", "--output",
                                      dir / "output.frames", "--until-idle", "300ms", "--quiet"},
                          dir.path());
  REQUIRE(read.exit_code == 0);
  const std::string output = read_file(dir / "output.frames");
  CHECK(output.size() == frames.size());
  CHECK(output == frames);
}

TEST_CASE("restarted after everything crossed, out and in forward nothing twice") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "8M"});
  create_ring(dir, far_ring, {"--size", "8M"});
  const std::vector<std::string> out_args{"out", near_ring, "--nats", cluster.url(0), "--stream", "AGAIN", "--subject",
                                          "again", "--until-idle", "300ms", "--json", "--quiet"};
  const std::vector<std::string> in_args{"in", far_ring, "--nats", cluster.url(0), "--stream", "AGAIN", "--durable",
                                         "far", "--json", "--quiet"};
  for (int batch = 0; batch < 3; ++batch) {
    const Result produced = run(kProducer, {near_ring, "--synthetic", "--count", "500", "--quiet"}, dir.path());
    REQUIRE(produced.exit_code == 0);
    // The first out starts at the ring's start (a new name starts at the latest record otherwise).
    std::vector<std::string> args = out_args;
    if (batch == 0) args.insert(args.end(), {"--from", "earliest"});
    for (int attempt = 0; attempt < 2; ++attempt) {  // the second run finds nothing new
      const Result out = run(kBridge, args, dir.path());
      INFO(out.err);
      REQUIRE(out.exit_code == 0);
      CHECK(JsonValue::parse(out.out)["acknowledged"].as_uint() == (attempt == 0 ? 500u : 0u));
      // Stopped by --until-idle 300ms after its records: that wait is idle, out of the rates (a
      // tester found 0, and rates taken over it).
      if (attempt == 0) CHECK(JsonValue::parse(out.out)["idle_seconds"].as_double() >= 0.3);
      args = out_args;
      // The first run stops after the 500 new records, the second when idle (finding none).
      std::vector<std::string> in_run = in_args;
      if (attempt == 0) {
        in_run.insert(in_run.end(), {"--count", "500"});
      } else {
        in_run.insert(in_run.end(), {"--until-idle", "300ms"});
      }
      const Result in = run(kBridge, in_run, dir.path());
      INFO(in.err);
      REQUIRE(in.exit_code == 0);
      CHECK(JsonValue::parse(in.out)["records"].as_uint() == (attempt == 0 ? 500u : 0u));
    }
  }
  CHECK(cluster.stream_messages("AGAIN") == 1500u);
  const Verification verification = verify_ring(dir, far_ring);
  CHECK(verification.ok);
  CHECK(verification.records == 1500);
  CHECK(verification.duplicates == 0);
  CHECK(verification.missing == 0);
}

TEST_CASE("a record too large for NATS stops out there: the records before it are sent and the cursor stays on it") {
  // Found by a tester: out stopped with the records before it still in flight, the cursor behind
  // them (sent again by the next start), and with --json it printed nothing.
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string ring = dir / "near.ring";
  std::string frames;
  for (int index = 0; index < 5; ++index) frames += frame("before " + std::to_string(index));
  frames += frame(std::string(2560 * 1024, 'x'));  // NATS takes 2 MiB here
  frames += frame("after");
  write_file(dir / "input.frames", frames);
  create_ring(dir, ring, {"--size", "64M", "--max-record", "3M"});
  REQUIRE(run(kProducer, {ring, "--input", dir / "input.frames", "--format", "frames", "--quiet"}, dir.path())
              .exit_code == 0);

  std::vector<std::string> out_args{"out",   ring,     "--nats", cluster.urls(), "--stream", "BIG", "--subject",
                                    "big",   "--name", "bridge", "--json",       "--quiet"};
  std::vector<std::string> first_args = out_args;
  first_args.insert(first_args.end(), {"--from", "earliest"});
  const Result first = run(kBridge, first_args, dir.path());
  INFO("out: " << first.err);
  CHECK(first.exit_code == 1);
  const std::string said = "the record at position ";
  const std::size_t at = first.err.find(said);
  REQUIRE(at != std::string::npos);
  const std::uint64_t position = std::stoull(first.err.substr(at + said.size()));
  CHECK(position > 0);
  const JsonValue summary = JsonValue::parse(first.out);
  CHECK(summary["exit_code"].as_uint() == 1);
  CHECK(summary["acknowledged"].as_uint() == 5);
  CHECK(summary["in_flight"].as_uint() == 0);
  CHECK(summary["position"].as_uint() == position);
  CHECK(cluster.stream_messages("BIG") == 5);
  // The cursor on the record itself: a rerun from it stops there again, sending nothing twice and
  // skipping nothing.
  const std::vector<ringfile::ConsumerInfo> consumers = ringfile::Ring::open(ring).consumers();
  REQUIRE(consumers.size() == 1);
  CHECK(consumers[0].cursor == position);
  const Result again = run(kBridge, out_args, dir.path());
  CHECK(again.exit_code == 1);
  CHECK(again.err.find(said + std::to_string(position)) != std::string::npos);
  CHECK(JsonValue::parse(again.out)["acknowledged"].as_uint() == 0);
  CHECK(cluster.stream_messages("BIG") == 5);
}

TEST_CASE("in --count: the stream's lag it reports counts the batch asked for ahead and left unwritten") {
  // Found by a tester: remote_lag was the durable's pending count alone, which leaves out what it
  // delivered past the last message written (the next batch, fetched ahead).
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "8M"});
  create_ring(dir, far_ring, {"--size", "8M"});
  REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", "300", "--quiet"}, dir.path()).exit_code == 0);
  const Result out = run(kBridge, {"out", near_ring, "--nats", cluster.url(0), "--stream", "LAG", "--subject", "lag",
                                   "--from", "earliest", "--count", "300", "--quiet"},
                         dir.path());
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  const std::vector<std::string> in_args{"in", far_ring, "--nats", cluster.url(0), "--stream", "LAG", "--durable",
                                         "far", "--batch", "64", "--json", "--quiet"};
  for (const auto& [count, lag] : {std::pair{100, 200}, std::pair{200, 0}}) {
    std::vector<std::string> args = in_args;
    args.insert(args.end(), {"--count", std::to_string(count)});
    const Result in = run(kBridge, args, dir.path());
    INFO(in.err);
    REQUIRE(in.exit_code == 0);
    const JsonValue summary = JsonValue::parse(in.out);
    CHECK(summary["records"].as_uint() == static_cast<std::uint64_t>(count));
    CHECK(summary["remote_lag"].as_uint() == static_cast<std::uint64_t>(lag));
  }
  const Verification verification = verify_ring(dir, far_ring);
  CHECK(verification.ok);
  CHECK(verification.records == 300);
  CHECK(verification.duplicates == 0);
  CHECK(verification.missing == 0);
}
