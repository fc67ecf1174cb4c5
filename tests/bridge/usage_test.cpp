// Bad usage, unreachable servers, streams and durables that do not fit: one line on stderr and
// exit 2 (usage) or 1 (runtime), as the other programs. And the bridge in ringfile-status.
#include <doctest/doctest.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "ringfile/options.hpp"
#include "support/bridge_run.hpp"
#include "support/status_json.hpp"

using namespace ringfile::bridge_test;
using namespace ringfile::program_test;

namespace {

std::size_t lines(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

void check_fails(const WorkDir& dir, const std::vector<std::string>& args, int exit_code, const std::string& says) {
  const Result result = run(kBridge, args, dir.path());
  INFO("stderr: " << result.err);
  CHECK(result.exit_code == exit_code);
  CHECK(lines(result.err) == 1);
  CHECK(contains(result.err, says));
}

// The files in `dir` whose names start with `prefix`: a ring, its state file beside it
// (RING.DURABLE.bridge-in), a ring left half made.
std::vector<std::string> files_starting(const WorkDir& dir, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with(prefix)) names.push_back(name);
  }
  return names;
}

// files_starting(), removed: the next run finds nothing there either, whatever this one left.
std::vector<std::string> take_files_starting(const WorkDir& dir, const std::string& prefix) {
  const std::vector<std::string> names = files_starting(dir, prefix);
  for (const auto& name : names) std::filesystem::remove(dir.path() / name);
  return names;
}

}  // namespace

TEST_CASE("bad usage: one line naming the problem, exit 2") {
  WorkDir dir;
  const std::string ring = dir / "r.ring";
  create_ring(dir, ring, {"--size", "1M"});
  const std::string url = "nats://127.0.0.1:4222";
  check_fails(dir, {}, 2, "name what to do first: out or in");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S"}, 2, "--subject");
  check_fails(dir, {"out", ring, "--nats", "http://127.0.0.1:4222", "--stream", "S", "--subject", "s"}, 2,
              "unknown scheme");
  check_fails(dir, {"out", ring, "--nats", "nats://host:99999", "--stream", "S", "--subject", "s"}, 2, "not a port");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "a.*"}, 2, "no wildcards");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S.T", "--subject", "s"}, 2, "not a JetStream name");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--max-in-flight", "0"}, 2,
              "--max-in-flight");
  // --from in ringfile-consumer's words (programs_common's start point).
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--from", "yesterday"}, 2,
              "is not committed, earliest, latest, a position, -N");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--from", "-0"}, 2,
              "'-0' asks for no record");
  // --count as every program takes it: a whole number, 0 or more.
  for (const char* count : {"-1", "1.5", "", "99999999999999999999"}) {
    check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--count", count}, 2, "--count");
  }
  check_fails(dir, {"in", ring, "--nats", url, "--stream", "S"}, 2, "--durable");
  check_fails(dir, {"in", ring, "--nats", url, "--stream", "S", "--durable", "d", "--size", "1M"}, 2, "add --create");
  check_fails(dir, {"in", ring, "--nats", url, "--stream", "S", "--durable", "a.b"}, 2, "not a JetStream name");
}

TEST_CASE("no server at the URL, or no ring: one line, exit 1") {
  WorkDir dir;
  const std::string ring = dir / "r.ring";
  create_ring(dir, ring, {"--size", "1M"});
  const std::string nobody = "nats://127.0.0.1:" + std::to_string(free_port());
  check_fails(dir, {"out", ring, "--nats", nobody, "--stream", "S", "--subject", "s"}, 1, "cannot connect to NATS");
  // -N and times are accepted as ringfile-consumer accepts them: it gets as far as connecting.
  check_fails(dir, {"out", ring, "--nats", nobody, "--stream", "S", "--subject", "s", "--from", "-5"}, 1,
              "cannot connect to NATS");
  check_fails(dir, {"out", ring, "--nats", nobody, "--stream", "S", "--subject", "s", "--from", "10m-ago"}, 1,
              "cannot connect to NATS");
  check_fails(dir, {"in", ring, "--nats", nobody, "--stream", "S", "--durable", "d"}, 1, "cannot connect to NATS");
  check_fails(dir, {"out", dir / "missing.ring", "--nats", nobody, "--stream", "S", "--subject", "s"}, 1, "missing.ring");
}

TEST_CASE("unknown streams, streams and rings that differ, a durable in use: one line, exit 1") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string ring = dir / "r.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, ring, {"--size", "1M"});
  create_ring(dir, far_ring, {"--size", "1M"});
  const std::string url = cluster.url(0);

  check_fails(dir, {"in", far_ring, "--nats", url, "--stream", "NOPE", "--durable", "d"}, 1, "does not exist");
  const Result created = run(kBridge, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--until-idle",
                                       "10ms", "--quiet"},
                             dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--replicas", "3"}, 1,
              "replicas 1 (asked 3)");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "s", "--max-bytes", "1M"}, 1,
              "max bytes unlimited (asked 1.0 MiB)");
  check_fails(dir, {"out", ring, "--nats", url, "--stream", "S", "--subject", "other"}, 1, "subjects s (asked other)");
  check_fails(dir, {"in", far_ring, "--create", "--size", "2M", "--nats", url, "--stream", "S", "--durable", "d"}, 1,
              "already exists with other parameters");

  // A record NATS cannot carry (the test servers take 2 MiB) stops out, which names it.
  const std::string big_ring = dir / "big.ring";
  create_ring(dir, big_ring, {"--size", "16M", "--max-record", "4M"});
  const Result big = run(kProducer, {big_ring, "--synthetic", "--record-size", "3M", "--count", "1", "--quiet"}, dir.path());
  REQUIRE(big.exit_code == 0);
  check_fails(dir, {"out", big_ring, "--nats", url, "--stream", "BIG", "--subject", "big", "--from", "earliest"}, 1,
              "the record at position 0");

  Program first(kBridge, {"in", far_ring, "--nats", url, "--stream", "S", "--durable", "d"}, dir.path());
  INFO("first in: " << first.err());
  REQUIRE(eventually([&] { return !status_of(far_ring, dir.path()).producers.empty(); }));
  check_fails(dir, {"in", far_ring, "--nats", url, "--stream", "S", "--durable", "d"}, 1,
              "another ringfile-bridge in is running");
  first.signal(SIGTERM);
  CHECK(first.wait() == 0);
  // The durable feeds far.ring: an `in` for another ring may not take it over, running or not
  // (the two would rewind it in turn and split the stream between the rings).
  const std::string other_ring = dir / "other.ring";
  create_ring(dir, other_ring, {"--size", "1M"});
  check_fails(dir, {"in", other_ring, "--nats", url, "--stream", "S", "--durable", "d", "--until-idle", "1s"}, 1,
              "feeds another ring (");
}

// A run that fails for a reason the user fixes and reruns for must not leave a ring behind: the
// rerun, with a --size of its own, would be refused as "exists with other parameters".
TEST_CASE("in --create failing at the server, stream, durable or state file creates nothing; a rerun may change --size") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string url = cluster.url(0);
  const std::string ring = dir / "new.ring";
  const auto creating = [&](const std::string& size, const std::vector<std::string>& more) {
    std::vector<std::string> args = {"in", ring, "--create", "--size", size};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  check_fails(dir, creating("1M", {"--nats", url, "--stream", "NOPE", "--durable", "d"}), 1, "does not exist");
  CHECK(take_files_starting(dir, "new.ring").empty());

  REQUIRE(cluster.create_stream("S", "s", 1, std::chrono::minutes(2)));
  // The durable "taken" feeds other.ring: new.ring cannot have it.
  const Result other = run(kBridge, {"in", dir / "other.ring", "--create", "--size", "1M", "--nats", url, "--stream",
                                     "S", "--durable", "taken", "--until-idle", "100ms", "--quiet"},
                           dir.path());
  INFO("other: " << other.err);
  REQUIRE(other.exit_code == 0);
  check_fails(dir, creating("1M", {"--nats", url, "--stream", "S", "--durable", "taken"}), 1, "feeds another ring (");
  CHECK(take_files_starting(dir, "new.ring").empty());

  // State files it cannot have: not a state file, one locked by a running bridge, one in a
  // directory that does not exist.
  write_file(dir / "junk.state", std::string(4096, 'z'));
  check_fails(dir, creating("1M", {"--nats", url, "--stream", "S", "--durable", "d", "--state", dir / "junk.state"}),
              1, "is not a ringfile-bridge state file");
  CHECK(take_files_starting(dir, "new.ring").empty());
  Program running(kBridge, {"in", dir / "other.ring", "--nats", url, "--stream", "S", "--durable", "taken", "--state",
                            dir / "shared.state"},
                  dir.path());
  INFO("running: " << running.err());
  REQUIRE(eventually([&] { return !status_of(dir / "other.ring", dir.path()).producers.empty(); }));
  check_fails(dir, creating("1M", {"--nats", url, "--stream", "S", "--durable", "d", "--state", dir / "shared.state"}),
              1, "another ringfile-bridge in is running");
  CHECK(take_files_starting(dir, "new.ring").empty());
  running.signal(SIGTERM);
  CHECK(running.wait() == 0);
  check_fails(dir, creating("1M", {"--nats", url, "--stream", "S", "--durable", "d", "--state", dir / "none/s"}), 1,
              "cannot open the bridge's state file");
  CHECK(take_files_starting(dir, "new.ring").empty());

  // A size the ring refuses, found out when it is created: the state file made for it goes again.
  check_fails(dir, creating("1000000", {"--nats", url, "--stream", "S", "--durable", "d"}), 2, "multiple of 4096");
  CHECK(take_files_starting(dir, "new.ring").empty());

  // The last failure's leftovers, if any, stay for the rerun to meet.
  const std::string nobody = "nats://127.0.0.1:" + std::to_string(free_port());
  check_fails(dir, creating("1M", {"--nats", nobody, "--stream", "S", "--durable", "d"}), 1, "cannot connect to NATS");
  CHECK(files_starting(dir, "new.ring").empty());
  const Result rerun =
      run(kBridge, creating("2M", {"--nats", url, "--stream", "S", "--durable", "d", "--until-idle", "100ms", "--quiet"}),
          dir.path());
  INFO("rerun: " << rerun.err);
  CHECK(rerun.exit_code == 0);
  CHECK(status_of(ring, dir.path()).capacity == 2 * ringfile::kMiB);
  CHECK(files_starting(dir, "new.ring").size() == 2);  // the ring and its state file
}

TEST_CASE("ringfile-status shows the bridge: out as a named consumer, in as a producer") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  NatsCluster cluster(*nats_server, dir.path(), 1);
  const std::string near_ring = dir / "near.ring";
  const std::string far_ring = dir / "far.ring";
  create_ring(dir, near_ring, {"--size", "1M"});
  create_ring(dir, far_ring, {"--size", "1M"});
  Program out(kBridge, {"out", near_ring, "--nats", cluster.url(0), "--stream", "SEEN", "--subject", "seen", "--name",
                        "to-jetstream"},
              dir.path());
  REQUIRE(eventually([&] { return cluster.stream_messages("SEEN").has_value(); }));
  Program in(kBridge, {"in", far_ring, "--nats", cluster.url(0), "--stream", "SEEN", "--durable", "from-jetstream"},
             dir.path());
  INFO("out: " << out.err() << " in: " << in.err());
  REQUIRE(eventually([&] {
    const StatusDocument near = status_of(near_ring, dir.path());
    return near.consumers.size() == 1 && near.consumers[0].name == "to-jetstream" && near.consumers[0].alive;
  }));
  CHECK(status_of(near_ring, dir.path()).consumer("to-jetstream").pid == static_cast<std::uint64_t>(out.pid()));
  REQUIRE(eventually([&] {
    const StatusDocument far = status_of(far_ring, dir.path());
    return far.producers.size() == 1 && far.producers[0].alive &&
           far.producers[0].pid == static_cast<std::uint64_t>(in.pid());
  }));
  out.signal(SIGINT);
  in.signal(SIGINT);
  CHECK(out.wait() == 0);
  CHECK(in.wait() == 0);
}

TEST_CASE("a user without permission for JetStream: one line naming the refusal, exit 1") {
  RINGFILE_REQUIRE_NATS_SERVER(nats_server);
  WorkDir dir;
  // Connections without credentials (the test's own) may do anything; "limited" may not use
  // JetStream's API.
  NatsCluster cluster(*nats_server, dir.path(), 1,
                      "authorization {\n  users = [\n    {user: admin, password: admin}\n"
                      "    {user: limited, password: limited, permissions: {publish: {deny: [\"$JS.API.>\"]}}}\n"
                      "  ]\n}\nno_auth_user: admin\n");
  const std::string ring = dir / "r.ring";
  create_ring(dir, ring, {"--size", "1M"});
  const std::string limited = "nats://limited:limited@" + cluster.url(0).substr(std::string("nats://").size());
  check_fails(dir, {"out", ring, "--nats", limited, "--stream", "S", "--subject", "s", "--request-timeout", "1s"}, 1,
              "Permissions Violation");
  check_fails(dir, {"in", ring, "--nats", limited, "--stream", "S", "--durable", "d", "--request-timeout", "1s"}, 1,
              "Permissions Violation");
  // Credentials in a URL are not repeated in messages.
  const Result refused = run(kBridge, {"out", ring, "--nats", limited, "--stream", "S", "--subject", "s",
                                       "--request-timeout", "1s"},
                             dir.path());
  CHECK_FALSE(contains(refused.err, "limited@"));
}
