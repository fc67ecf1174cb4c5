// The JetStream side failing under the bridge: one node of three killed and restarted with the
// stream replicated three times, and the whole cluster gone for seconds.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/ring.hpp"
#include "support/bridge_run.hpp"
#include "support/json_value.hpp"

using namespace ringfile::bridge_test;
using namespace ringfile::program_test;

namespace {

// Waits until the ring's head has moved `bytes` past where it is now.
bool head_advances(const ringfile::Ring& ring, std::uint64_t bytes,
                   std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const std::uint64_t from = ring.head_position();
  return eventually([&] { return ring.head_position() >= from + bytes; }, timeout);
}

// Stops the synthetic producer and returns how many records it wrote.
std::uint64_t stop_producer(Program& producer) {
  producer.signal(SIGINT);
  REQUIRE(producer.wait() == 0);
  return JsonValue::parse(producer.out())["records"].as_uint();
}

void check_exactly_once(const WorkDir& dir, const std::string& far_ring, std::uint64_t records) {
  const Verification verification = verify_ring(dir, far_ring);
  CHECK(verification.ok);
  CHECK(verification.records == records);
  CHECK(verification.missing == 0);
  CHECK(verification.duplicates == 0);
  CHECK(verification.corrupt == 0);
}

}  // namespace

TEST_CASE("one node of three killed and restarted mid-stream, replicas 3: nothing lost, nothing doubled") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 3);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  // Room for every record of a slow run (a minute at 4000 records/s of 600 bytes on average,
  // framed): the far ring is verified from its earliest record, so it must not wrap.
  create_ring(dir, near_ring, {"--size", "256M"});
  create_ring(dir, far_ring, {"--size", "256M"});

  Program out(kBridge, {"out", near_ring, "--nats", cluster.urls(), "--stream", "FAILOVER", "--subject", "failover",
                        "--replicas", "3", "--from", "earliest", "--json"},
              dir.path());
  REQUIRE(eventually([&] { return cluster.stream_messages("FAILOVER").has_value(); }));
  Program in(kBridge, {"in", far_ring, "--nats", cluster.urls(), "--stream", "FAILOVER", "--durable", "far", "--json"},
             dir.path());
  Program producer(kProducer, {near_ring, "--synthetic", "--record-size", "64-1K", "--rate", "4000", "--json", "--quiet"},
                   dir.path());
  const ringfile::Ring far = ringfile::Ring::open(far_ring);
  INFO("out: " << out.err() << "\nin: " << in.err() << "\nservers:\n" << cluster.logs());
  REQUIRE(head_advances(far, 256 * 1024));

  // The stream's leader is the node whose loss hurts most: a new one must be elected.
  const std::optional<int> leader = cluster.stream_leader("FAILOVER");
  REQUIRE(leader.has_value());
  cluster.kill(*leader);
  REQUIRE(head_advances(far, 256 * 1024));  // two nodes of three carry on
  cluster.start(*leader);
  REQUIRE(eventually([&] { return cluster.stream_replicas_current("FAILOVER"); }, std::chrono::seconds(60)));
  REQUIRE(head_advances(far, 128 * 1024));

  const std::uint64_t records = stop_producer(producer);
  REQUIRE(eventually([&] { return cluster.stream_messages("FAILOVER") == records; }, std::chrono::seconds(60)));
  out.signal(SIGINT);
  CHECK(out.wait() == 0);
  in.signal(SIGINT);
  REQUIRE(in.wait() == 0);
  // The rest crosses with one more run of in, which stops after the records still missing.
  const std::uint64_t written = JsonValue::parse(in.out())["records"].as_uint();
  REQUIRE(written <= records);
  const Result in_rest = run(kBridge, {"in", far_ring, "--nats", cluster.urls(), "--stream", "FAILOVER", "--durable",
                                       "far", "--count", std::to_string(records - written), "--quiet"},
                             dir.path());
  INFO(in_rest.err);
  REQUIRE(in_rest.exit_code == 0);
  check_exactly_once(dir, far_ring, records);
}

TEST_CASE("JetStream unreachable for seconds: out says so once, waits, and catches up when it is back") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 3);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "64M"});

  Program out(kBridge, {"out", near_ring, "--nats", cluster.urls(), "--stream", "OUTAGE", "--subject", "outage",
                        "--replicas", "3", "--from", "earliest", "--ack-timeout", "1s", "--json"},
              dir.path());
  Program producer(kProducer, {near_ring, "--synthetic", "--record-size", "64-1K", "--rate", "2000", "--json", "--quiet"},
                   dir.path());
  const ringfile::Ring near = ringfile::Ring::open(near_ring);
  INFO("out: " << out.err());
  REQUIRE(eventually([&] { return cluster.stream_messages("OUTAGE").value_or(0) >= 1000; }, std::chrono::seconds(60)));

  // Every node stops answering, as behind a partition. Unreachable until out has noticed and the
  // producer has gone on writing for a few seconds (2000 records/s of 560 bytes on average,
  // framed: about 1.2 MB/s).
  for (int node = 0; node < cluster.size(); ++node) cluster.pause(node);
  REQUIRE(eventually([&] { return contains(out.err(), "JetStream did not take records"); }, std::chrono::seconds(30)));
  REQUIRE(head_advances(near, 3 * 1024 * 1024));
  REQUIRE(out.running());
  for (int node = 0; node < cluster.size(); ++node) cluster.resume(node);
  REQUIRE(eventually([&] { return contains(out.err(), "JetStream takes records again"); }, std::chrono::seconds(60)));

  const std::uint64_t records = stop_producer(producer);
  INFO("the producer wrote " << records << " records, the stream holds "
                             << cluster.stream_messages("OUTAGE").value_or(0) << " messages");
  REQUIRE(eventually([&] { return cluster.stream_messages("OUTAGE") == records; }, std::chrono::seconds(60)));
  out.signal(SIGINT);
  REQUIRE(out.wait() == 0);
  const JsonValue summary = JsonValue::parse(out.out());
  CHECK(summary["acknowledged"].as_uint() == records);
  // Said once for the outage, not once per record or retry. (Only up to the "again": the
  // cluster, just resumed, may hiccup once more, and that is another outage.)
  const std::string err = out.err();
  const std::size_t back = err.find("takes records again");
  REQUIRE(back != std::string::npos);
  std::size_t notices = 0;
  for (std::size_t at = err.find("did not take records"); at < back; at = err.find("did not take records", at + 1)) {
    ++notices;
  }
  CHECK(notices == 1);

  const Result in = run(kBridge, {"in", far_ring, "--create", "--size", "64M", "--nats", cluster.urls(), "--stream",
                                  "OUTAGE", "--durable", "far", "--count", std::to_string(records), "--quiet"},
                        dir.path());
  INFO(in.err);
  REQUIRE(in.exit_code == 0);
  check_exactly_once(dir, far_ring, records);
}

TEST_CASE("a stream that refuses every message (full, discard new): out waits, and stops on SIGINT") {
  // Found by a tester: out went on at once after each refusal, a new connection and a refusal
  // some 440 times a second, and looked at no stop request: only SIGKILL ended it.
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  REQUIRE(cluster.create_stream("FULL", "full", 1, std::chrono::minutes(2), 3));
  const std::string ring = dir / "near.ring";
  create_ring(dir, ring, {"--size", "16M"});
  REQUIRE(run(kProducer, {ring, "--synthetic", "--count", "10", "--quiet"}, dir.path()).exit_code == 0);

  Program out(kBridge, {"out", ring, "--nats", cluster.urls(), "--stream", "FULL", "--subject", "full", "--from",
                        "earliest", "--json"},
              dir.path());
  INFO("out: " << out.err());
  REQUIRE(eventually([&] { return contains(out.err(), "JetStream did not take records"); }, std::chrono::seconds(60)));
  REQUIRE(eventually([&] { return cluster.stream_messages("FULL") == 3; }));
  out.signal(SIGINT);
  CHECK(out.wait(std::chrono::seconds(30)) == 0);
  const JsonValue summary = JsonValue::parse(out.out());
  CHECK(summary["acknowledged"].as_uint() == 3);
  CHECK(summary["exit_code"].as_uint() == 0);
  CHECK(cluster.stream_messages("FULL") == 3);
}

TEST_CASE("--duration ends out and in while JetStream is gone") {
  // Found by a tester: with the server gone, --duration 5s ran 12-15 s (out) and 12.7 s (in).
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "16M"});
  create_ring(dir, far_ring, {"--size", "16M"});
  REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", "100", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kBridge, {"out", near_ring, "--nats", cluster.urls(), "--stream", "GONE", "--subject", "gone", "--from",
                        "earliest", "--count", "100", "--quiet"},
              dir.path())
              .exit_code == 0);

  // Both started against a server that answers, which then goes away for good: only their
  // --duration can end them.
  // Killed once both are past their start (a deadline that comes first stops them cleanly too:
  // the test then passes without an outage, never fails for it).
  Program out(kBridge, {"out", near_ring, "--nats", cluster.urls(), "--stream", "GONE", "--subject", "gone",
                        "--name", "out", "--ack-timeout", "1s", "--duration", "5s", "--json"},
              dir.path());
  Program in(kBridge, {"in", far_ring, "--nats", cluster.urls(), "--stream", "GONE", "--durable", "far", "--duration",
                       "5s", "--json"},
             dir.path());
  INFO("out: " << out.err() << "\nin: " << in.err());
  const ringfile::Ring near = ringfile::Ring::open(near_ring);
  // out attaches its consumer once it has read where the stream stops; in writes once it fetches.
  REQUIRE(eventually(
      [&] {
        const auto consumers = near.consumers();
        return std::any_of(consumers.begin(), consumers.end(),
                           [](const ringfile::ConsumerInfo& info) { return info.name == "out" && info.alive; });
      },
      std::chrono::seconds(60)));
  REQUIRE(eventually([&] { return ringfile::Ring::open(far_ring).head_position() > 0; }, std::chrono::seconds(60)));
  cluster.kill(0);
  // Records for out to send into the outage.
  REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", "10", "--quiet"}, dir.path()).exit_code == 0);
  // Not SIGINT: --duration alone. (wait() fails the test after its own timeout.)
  CHECK(out.wait(std::chrono::seconds(60)) == 0);
  CHECK(in.wait(std::chrono::seconds(60)) == 0);
  CHECK(JsonValue::parse(out.out())["exit_code"].as_uint() == 0);
  CHECK(JsonValue::parse(in.out())["exit_code"].as_uint() == 0);
}

TEST_CASE("in says when the server is gone and when it is back, however short the outage") {
  // Found by a tester: with the server killed for 4-8 s, in said nothing (the client reconnects
  // by itself, and a fetch meanwhile finds nothing); out did.
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "16M"});
  create_ring(dir, far_ring, {"--size", "16M"});
  // Each time `records` more through out, which resumes at its cursor after the first time.
  const auto send = [&](int records) {
    REQUIRE(run(kProducer, {near_ring, "--synthetic", "--count", std::to_string(records), "--quiet"}, dir.path())
                .exit_code == 0);
    std::vector<std::string> options{"out",  near_ring, "--nats",  cluster.urls(), "--stream", "SHORT", "--subject",
                                     "short", "--name", "out", "--count", std::to_string(records), "--quiet"};
    if (ringfile::Ring::open(near_ring).consumers().empty()) options.insert(options.end(), {"--from", "earliest"});
    const Result out = run(kBridge, options, dir.path());
    INFO(out.err);
    REQUIRE(out.exit_code == 0);
  };
  send(100);
  Program in(kBridge, {"in", far_ring, "--nats", cluster.urls(), "--stream", "SHORT", "--durable", "far", "--json"},
             dir.path());
  INFO("in: " << in.err());
  const ringfile::Ring far = ringfile::Ring::open(far_ring);
  REQUIRE(eventually([&] { return far.records_written() == 100; }, std::chrono::seconds(60)));

  cluster.kill(0);
  REQUIRE(eventually([&] { return contains(in.err(), "JetStream unavailable (the connection to"); },
                     std::chrono::seconds(30)));
  cluster.start(0);
  REQUIRE(eventually([&] { return contains(in.err(), "JetStream available again"); }, std::chrono::seconds(60)));
  send(100);
  REQUIRE(eventually([&] { return far.records_written() == 200; }, std::chrono::seconds(60)));
  in.signal(SIGINT);
  REQUIRE(in.wait() == 0);
  check_exactly_once(dir, far_ring, 200);
}
