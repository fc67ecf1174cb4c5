// The bridge and its rings' policies: records an overwrite ring lost before `out` read them are
// reported with their count; a full block-policy ring makes `in` wait, and nothing is dropped.
#include <doctest/doctest.h>

#include <signal.h>

#include "ringfile/programs/units.hpp"
#include "ringfile/ring.hpp"
#include "support/bridge_run.hpp"
#include "support/json_value.hpp"

using namespace ringfile::bridge_test;
using namespace ringfile::program_test;

TEST_CASE("records the overwrite policy lapped before out read them are reported with their count, the rest cross once") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "1M", "--policy", "overwrite"});
  create_ring(dir, far_ring, {"--size", "16M"});
  const std::vector<std::string> out_args{"out", near_ring, "--nats", cluster.url(0), "--stream", "LAPPED",
                                          "--subject", "lapped", "--until-idle", "300ms", "--json"};

  // A first run names the bridge's cursor at the ring's start, with nothing to send yet.
  std::vector<std::string> first_args = out_args;
  first_args.insert(first_args.end(), {"--from", "earliest"});
  const Result first = run(kBridge, first_args, dir.path());
  INFO(first.err);
  REQUIRE(first.exit_code == 0);
  // Five laps of the ring while the bridge is away: the overwrite policy does not wait for it.
  constexpr std::uint64_t kRecords = 5000;
  const Result produced = run(kProducer, {near_ring, "--synthetic", "--record-size", "1K", "--count",
                                          std::to_string(kRecords), "--rate", "1000000", "--quiet"},
                              dir.path());
  REQUIRE(produced.exit_code == 0);

  const Result out = run(kBridge, out_args, dir.path());
  INFO(out.err);
  REQUIRE(out.exit_code == 0);
  const JsonValue summary = JsonValue::parse(out.out);
  const std::uint64_t acknowledged = summary["acknowledged"].as_uint();
  const std::uint64_t lost_bytes = summary["lost_bytes"].as_uint();
  REQUIRE(acknowledged > 0);
  REQUIRE(acknowledged < kRecords);
  // A cursor lapped while its reader was away cannot count the records by their sequence numbers
  // (it never saw the one before): the bytes skipped tell the loss, each frame a 1 KiB payload
  // with its header, and at most one padding frame per lap.
  const std::uint64_t lost = kRecords - acknowledged;
  CHECK(lost_bytes > lost * 1024);
  CHECK(lost_bytes < (lost + 8) * (1024 + 64));
  CHECK(contains(out.err, "that the ring's producers overwrote before they were read"));
  CHECK(contains(out.err, "lost 0 records (" + ringfile::programs::format_bytes(static_cast<double>(lost_bytes)) + ")"));
  CHECK(cluster.stream_messages("LAPPED") == acknowledged);

  const Result in = run(kBridge, {"in", far_ring, "--nats", cluster.url(0), "--stream", "LAPPED", "--durable", "far",
                                  "--count", std::to_string(acknowledged), "--quiet"},
                        dir.path());
  INFO(in.err);
  REQUIRE(in.exit_code == 0);
  // The far ring has what reached the stream, each once, with no gap after the loss.
  const Verification verification = verify_ring(dir, far_ring);
  CHECK(verification.ok);
  CHECK(verification.records == acknowledged);
  CHECK(verification.missing == 0);
  CHECK(verification.duplicates == 0);
  CHECK(verification.corrupt == 0);
}

TEST_CASE("a full block-policy ring makes in wait for its consumer, and nothing is dropped") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "16M"});
  create_ring(dir, far_ring, {"--size", "1M", "--hold-window", "ring"});
  // Four times what the far ring holds, all in the stream before `in` starts.
  constexpr std::uint64_t kRecords = 4000;
  const std::string count = std::to_string(kRecords);
  const Result produced = run(kProducer, {near_ring, "--synthetic", "--record-size", "1K", "--count", count,
                                          "--rate", "1000000", "--quiet"},
                              dir.path());
  REQUIRE(produced.exit_code == 0);
  const Result out = run(kBridge, {"out", near_ring, "--nats", cluster.url(0), "--stream", "FULL", "--subject", "full",
                                   "--from", "earliest", "--count", count, "--quiet"},
                         dir.path());
  INFO(out.err);
  REQUIRE(out.exit_code == 0);

  // The far ring's only consumer attaches, then is stopped (SIGSTOP): alive, holding, reading nothing.
  Program reader(kConsumer, {far_ring, "--name", "slow", "--from", "earliest", "--verify", "--count", count, "--json",
                             "--quiet"},
                 dir.path());
  const ringfile::Ring far = ringfile::Ring::open(far_ring);
  REQUIRE(eventually([&] { return !far.consumers().empty(); }, std::chrono::seconds(30)));
  reader.stop_outside_table_lock(far_ring);

  Program in(kBridge, {"in", far_ring, "--nats", cluster.url(0), "--stream", "FULL", "--durable", "far", "--json",
                       "--quiet"},
             dir.path());
  // `in` fills the ring up to the stopped reader's cursor, then waits there without failing.
  const std::uint64_t capacity = far.info().capacity_bytes;
  REQUIRE(eventually([&] { return far.head_position() + 2 * 1024 + 64 >= capacity; }, std::chrono::seconds(60)));
  CHECK(in.running());
  CHECK(far.head_position() <= capacity);

  reader.signal(SIGCONT);
  INFO("reader: " << reader.err());
  REQUIRE(reader.wait(std::chrono::seconds(120)) == 0);
  const JsonValue read = JsonValue::parse(reader.out())["verify"];
  CHECK(read["ok"].as_bool());
  CHECK(read["records"].as_uint() == kRecords);
  CHECK(read["missing"].as_uint() == 0);
  CHECK(read["duplicates"].as_uint() == 0);

  in.signal(SIGINT);
  INFO("in: " << in.err());
  REQUIRE(in.wait(std::chrono::seconds(60)) == 0);
  CHECK(JsonValue::parse(in.out())["records"].as_uint() == kRecords);
}
