// Messages in the stream that the bridge did not send: anyone allowed to publish on the subject
// can give a message any header, and an operator can delete a stream and make it again. None of
// it may make `in` or `out` lose records without a word.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "message_origin.hpp"
#include "ringfile/ring.hpp"
#include "support/bridge_run.hpp"
#include "support/json_value.hpp"
#include "support/payloads.hpp"

using namespace ringfile::bridge_test;
using namespace ringfile::program_test;

namespace {

// The ring's records from its start, as `--format frames` writes them.
std::string frames_in(const WorkDir& dir, const std::string& ring) {
  const Result read = run(kConsumer, {ring, "--from", "earliest", "--format", "frames", "--output", dir / "read.frames",
                                      "--until-idle", "300ms", "--quiet"},
                          dir.path());
  REQUIRE(read.exit_code == 0);
  return read_file(dir / "read.frames");
}

}  // namespace

TEST_CASE("in: a message with a Status header of its own is a record like any other") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  REQUIRE(cluster.create_stream("FORGED", "forged", 1, std::chrono::minutes(2)));
  // The server's own answers to a pull carry "Status" on an empty message; these are published.
  // (Not 503: the NATS C client itself takes an empty message with it for "no responders" and
  // drops it before the bridge sees it; docs/bridge.md says so.)
  REQUIRE(cluster.publish("forged", "before"));
  REQUIRE(cluster.publish("forged", "", {{"Status", "404"}}));
  REQUIRE(cluster.publish("forged", "", {{"Status", "409"}, {"Description", "Consumer Deleted"}}));
  REQUIRE(cluster.publish("forged", "after"));
  const std::string far_ring = dir / "far.ring";
  Program in(kBridge, {"in", far_ring, "--create", "--size", "1M", "--nats", cluster.url(0), "--stream", "FORGED",
                       "--durable", "far", "--count", "4", "--json", "--quiet"},
             dir.path());
  INFO("in: " << in.err());
  // Before, the 404 was taken for the server's "no messages": `in` rewound for ever.
  REQUIRE(in.wait() == 0);
  CHECK(JsonValue::parse(in.out())["records"].as_uint() == 4);
  CHECK(frames_in(dir, far_ring) == frame("before") + frame("") + frame("") + frame("after"));
}

TEST_CASE("out: a message naming this ring at a position it has not reached is not taken for its own") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  create_ring(dir, near_ring, {"--size", "1M"});
  const std::vector<std::string> out_args{"out", near_ring, "--nats", cluster.url(0), "--stream", "ORIGIN", "--subject",
                                          "origin", "--until-idle", "300ms", "--json", "--quiet"};
  REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", "3", "--quiet"}, dir.path()).exit_code == 0);
  std::vector<std::string> first = out_args;
  first.insert(first.end(), {"--from", "earliest"});
  const Result sent = run(kBridge, first, dir.path());
  INFO("first out: " << sent.err);
  REQUIRE(sent.exit_code == 0);
  CHECK(JsonValue::parse(sent.out)["acknowledged"].as_uint() == 3);

  // The ring's identity is in every message out sent; a position 1 TiB on is one it never wrote.
  const std::string identity = ringfile::bridge::ring_identity(ringfile::Ring::open(near_ring).info());
  REQUIRE(cluster.publish("origin", "forged",
                          {{ringfile::bridge::kOriginHeader, ringfile::bridge::origin_text(identity, 1ull << 40)}}));
  REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", "3", "--quiet"}, dir.path()).exit_code == 0);
  std::vector<std::string> second = out_args;
  second.pop_back();  // not --quiet: the notice is checked
  const Result resumed = run(kBridge, second, dir.path());
  INFO("second out: " << resumed.err);
  REQUIRE(resumed.exit_code == 0);
  // Before, the three records below the forged position were skipped as already in the stream.
  CHECK(JsonValue::parse(resumed.out)["acknowledged"].as_uint() == 3);
  CHECK(resumed.err.find("was not sent from this ring") != std::string::npos);
  CHECK(cluster.stream_messages("ORIGIN") == 7u);
}

TEST_CASE("in: a stream deleted and made again under its name is refused, not read from the old place") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string far_ring = dir / "far.ring";
  const std::vector<std::string> in_args{"in", far_ring, "--nats", cluster.url(0), "--stream", "AGAIN", "--durable",
                                         "far", "--json", "--quiet"};
  REQUIRE(cluster.create_stream("AGAIN", "again", 1, std::chrono::minutes(2)));
  std::string expected;
  for (int index = 0; index < 5; ++index) {
    REQUIRE(cluster.publish("again", "old-" + std::to_string(index)));
    expected += frame("old-" + std::to_string(index));
  }
  std::vector<std::string> first = in_args;
  first.insert(first.end(), {"--create", "--size", "1M", "--count", "5"});
  const Result fed = run(kBridge, first, dir.path());
  INFO("first in: " << fed.err);
  REQUIRE(fed.exit_code == 0);

  REQUIRE(cluster.delete_stream("AGAIN"));
  REQUIRE(cluster.create_stream("AGAIN", "again", 1, std::chrono::minutes(2)));
  for (int index = 0; index < 7; ++index) {
    REQUIRE(cluster.publish("again", "new-" + std::to_string(index)));
    expected += frame("new-" + std::to_string(index));
  }
  // Before, `in` went on after sequence 5 of the new stream: new-0 to new-4 never crossed.
  std::vector<std::string> again = in_args;
  again.insert(again.end(), {"--until-idle", "300ms"});
  const Result refused = run(kBridge, again, dir.path());
  INFO("second in: " << refused.err);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("stream 'AGAIN' was deleted and made again since this ring's last message from it "
                         "(sequence 5)") != std::string::npos);
  CHECK(refused.err.find("skip its first 5 messages") != std::string::npos);
  // With --json, a failure once started still gives a machine its document (it gave nothing:
  // found by a tester).
  const JsonValue summary = JsonValue::parse(refused.out);
  CHECK(summary["exit_code"].as_uint() == 1);
  CHECK(summary["records"].as_uint() == 0);

  // As the message says: without the state file, the ring is fed from the new stream's start.
  std::filesystem::remove(far_ring + ".far.bridge-in");
  std::vector<std::string> fresh = in_args;
  fresh.insert(fresh.end(), {"--count", "7"});
  const Result refed = run(kBridge, fresh, dir.path());
  INFO("third in: " << refed.err);
  REQUIRE(refed.exit_code == 0);
  CHECK(frames_in(dir, far_ring) == expected);
}
