// ringfile-consumer --no-hold on a ring its user may read but not write: a tap without a slot
// that holds nobody back, reports what it lost, and never changes a byte of the file.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

TEST_CASE("ringfile-consumer --no-hold taps a ring it may only read, without a slot, and changes no byte") {
  WorkDir dir;
  const std::string ring = dir / "audited.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "256K", "--count", "0"}, dir.path()).exit_code == 0);
  REQUIRE(run(kProducer, {ring, "--synthetic", "--record-size", "1K", "--count", "100"}, dir.path()).exit_code == 0);
  REQUIRE(::chmod(ring.c_str(), 0444) == 0);

  std::string why_not;
  const std::optional<UnprivilegedProgram> reader = unprivileged(kConsumer, dir.path(), &why_not);
  if (!reader) {
    MESSAGE("skipped: " << why_not);
    return;
  }
  const std::string& consumer_binary = reader->binary;
  const Launch& as_reader = reader->launch;

  SUBCASE("a named consumer, or one that holds producers back, needs write access") {
    // Each says why it needs it, and how to read without it (found missing by a review helper).
    const std::pair<std::vector<std::string>, std::string> cases[] = {
        {{ring, "--discard", "--count", "1"},
         "(a consumer that holds producers back takes a slot in the file; with --no-hold it reads with read "
         "access alone)"},
        {{ring, "--no-hold", "--name", "audit"},
         "(a named consumer keeps its cursor in the file; an anonymous one with --no-hold reads with read access "
         "alone)"}};
    for (const auto& [args, why] : cases) {
      const Result refused = run(consumer_binary, args, dir.path(), as_reader);
      CHECK(refused.exit_code == 1);
      CHECK(refused.err.find("permission denied") != std::string::npos);
      CHECK(refused.err.find(why) != std::string::npos);
    }
  }

  SUBCASE("it reads while a writer laps it, counting what it lost; status does not list it") {
    Program tap(consumer_binary, {ring, "--no-hold", "--from", "earliest", "--verify", "--json", "--until-idle", "5s"},
                dir.path(), as_reader);
    REQUIRE(eventually([&] { return tap.err().find("tapping it read-only") != std::string::npos; }));
    // A writer with write access keeps writing: 3 MiB through the 256 KiB ring in about 3 s.
    const Result produced =
        run(kProducer, {ring, "--synthetic", "--record-size", "1K", "--count", "3000", "--rate", "1M"}, dir.path());
    REQUIRE(produced.exit_code == 0);
    CHECK(status_of(ring, dir.path()).consumers.empty());
    INFO(tap.err());
    REQUIRE(tap.wait(std::chrono::seconds(60)) == 0);
    CHECK(tap.err().find("tapping it read-only, without a consumer slot") != std::string::npos);
    const JsonValue summary = JsonValue::parse(tap.out());
    const JsonValue& verify = summary["verify"];
    CHECK(verify["ok"].as_bool());
    CHECK(verify["corrupt"].as_uint() == 0);
    CHECK(verify["duplicates"].as_uint() == 0);
    CHECK(verify["producers"].as_uint() == 2);
    // Every record written was either read or counted as lost (the tap saw each producer's first).
    CHECK(verify["records"].as_uint() + verify["lost_records"].as_uint() == 3100);
  }

  SUBCASE("reading the whole ring leaves every byte and the modification time as they were") {
    const std::string before = read_file(ring);
    struct stat stat_before {};
    REQUIRE(::stat(ring.c_str(), &stat_before) == 0);
    const Result tapped =
        run(consumer_binary, {ring, "--no-hold", "--from", "earliest", "--verify", "--until-idle", "200ms", "--json"},
            dir.path(), as_reader);
    INFO(tapped.err);
    CHECK(tapped.exit_code == 0);
    CHECK(JsonValue::parse(tapped.out)["verify"]["records"].as_uint() == 100);
    struct stat stat_after {};
    REQUIRE(::stat(ring.c_str(), &stat_after) == 0);
    CHECK(read_file(ring) == before);
    CHECK(stat_after.st_mtim.tv_nsec == stat_before.st_mtim.tv_nsec);
  }
}
