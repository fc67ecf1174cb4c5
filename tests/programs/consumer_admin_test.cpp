// Named consumers have a life cycle: ringfile-consumer lists, describes, deletes and resets them
// (never one attached by a live process), expired ones stop counting, a full table says how
// to make room, and slots a damaged header left unreadable can be freed.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstddef>

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ringfile/format/file_header.hpp"
#include "support/crash_images.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

// Records of one size, so that estimates in records are exact.
std::string numbered_lines(int first, int last) {
  std::string text;
  char line[32];
  for (int number = first; number <= last; ++number) {
    std::snprintf(line, sizeof line, "record-%03d\n", number);
    text += line;
  }
  return text;
}

void create_with_lines(const WorkDir& dir, const std::string& ring, int count) {
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  write_file(dir / "lines.txt", numbered_lines(0, count - 1));
  REQUIRE(run(kProducer, {ring, "--input", dir / "lines.txt", "--quiet"}, dir.path()).exit_code == 0);
}

JsonValue list_json(const WorkDir& dir, const std::string& ring) {
  const Result listed = run(kConsumer, {ring, "--list", "--json"}, dir.path());
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  return JsonValue::parse(listed.out);
}

const JsonValue* listed(const JsonValue& list, const std::string& name) {
  for (const JsonValue& consumer : list["consumers"].items()) {
    if (consumer["name"].as_string() == name) return &consumer;
  }
  return nullptr;
}

// Writes `bytes` into consumer slot `slot` of the ring's header at `offset` in the slot, as a
// damaged header would have them.
}  // namespace

TEST_CASE("--list and --describe show each consumer - --delete removes one that is gone, never one attached") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 30);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "10", "--quiet"}, dir.path())
              .exit_code == 0);
  Program live(kConsumer, {ring, "--name", "live", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 2; }));

  const JsonValue list = list_json(dir, ring);
  CHECK(list["consumer_slots_used"].as_uint() == 2);
  CHECK(list["consumer_slots"].as_uint() == 64);
  const JsonValue* billing = listed(list, "billing");
  REQUIRE(billing != nullptr);
  CHECK((*billing)["state"].as_string() == "DETACHED");
  CHECK((*billing)["lag_records_estimate"].as_uint() == 20);
  CHECK((*listed(list, "live"))["state"].as_string() == "ATTACHED");
  CHECK((*listed(list, "live"))["pid"].as_uint() == static_cast<std::uint64_t>(live.pid()));

  const Result table = run(kConsumer, {ring, "--list"}, dir.path());
  CHECK(table.out.find("2 of 64 consumer slots used") != std::string::npos);
  CHECK(table.out.find("billing   DETACHED") != std::string::npos);
  const Result described = run(kConsumer, {ring, "--describe", "billing"}, dir.path());
  CHECK(described.out.find("consumer 'billing' of '" + ring + "'") == 0);
  CHECK(described.out.find("  state       DETACHED") != std::string::npos);
  CHECK(described.out.find("~20 records") != std::string::npos);

  const Result refused = run(kConsumer, {ring, "--delete", "live"}, dir.path());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("cannot delete consumer 'live' while live process " + std::to_string(live.pid()) +
                         " is attached to it") != std::string::npos);
  const Result deleted = run(kConsumer, {ring, "--delete", "billing"}, dir.path());
  CHECK(deleted.exit_code == 0);
  CHECK(deleted.err.find("deleted consumer 'billing'") != std::string::npos);
  CHECK(listed(list_json(dir, ring), "billing") == nullptr);
  // Several at once, as rm takes files: an unknown name (or an attached one) is said and fails
  // the run; the others go all the same (found by a tester: it stopped at the first unknown one,
  // and --json printed nothing).
  for (const char* name : {"c8", "c9"}) {
    REQUIRE(run(kConsumer, {ring, "--name", name, "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  }
  const Result several = run(kConsumer, {ring, "--delete", "c8", "nobody", "live", "c9", "--json"}, dir.path());
  CHECK(several.exit_code == 1);
  CHECK(several.err.find("no consumer is named 'nobody'") != std::string::npos);
  CHECK(several.err.find("cannot delete consumer 'live'") != std::string::npos);
  const JsonValue outcome = JsonValue::parse(several.out);
  REQUIRE(outcome["deleted"].items().size() == 2);
  CHECK(outcome["deleted"].items()[0].as_string() == "c8");
  CHECK(outcome["deleted"].items()[1].as_string() == "c9");
  REQUIRE(outcome["refused"].items().size() == 2);
  CHECK(outcome["refused"].items()[0]["name"].as_string() == "nobody");
  CHECK(outcome["refused"].items()[1]["name"].as_string() == "live");
  const JsonValue after = list_json(dir, ring);
  CHECK(listed(after, "c8") == nullptr);
  CHECK(listed(after, "c9") == nullptr);
  CHECK(listed(after, "live") != nullptr);
  // Names are UTF-8: letters beyond ASCII are fine (spaces and control characters are not).
  REQUIRE(run(kConsumer, {ring, "--name", "caf\u00e9-\u00fcber", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  CHECK(listed(list_json(dir, ring), "caf\u00e9-\u00fcber") != nullptr);
  // The name starts afresh: a new consumer by that name starts at the head.
  CHECK(run(kConsumer, {ring, "--name", "billing", "--until-idle", "50ms", "--quiet"}, dir.path()).out.empty());
  live.signal(SIGTERM);
  CHECK(live.wait() == 0);
}

TEST_CASE("--reset --dry-run shows the lag before and after and changes nothing - --reset moves the cursor") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 30);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "10", "--quiet"}, dir.path())
              .exit_code == 0);
  const std::uint64_t cursor = (*listed(list_json(dir, ring), "billing"))["position"].as_uint();
  const std::uint64_t head = status_of(ring, dir.path()).head;

  const Result dry = run(kConsumer, {ring, "--reset", "billing", "--to", "earliest", "--dry-run", "--json"}, dir.path());
  INFO(dry.err);
  REQUIRE(dry.exit_code == 0);
  const JsonValue plan = JsonValue::parse(dry.out);
  CHECK_FALSE(plan["applied"].as_bool());
  CHECK(plan["before"]["position"].as_uint() == cursor);
  CHECK(plan["before"]["lag_bytes"].as_uint() == head - cursor);
  CHECK(plan["before"]["lag_records_estimate"].as_uint() == 20);
  CHECK(plan["after"]["position"].as_uint() == 0);
  CHECK(plan["after"]["lag_bytes"].as_uint() == head);
  CHECK(plan["after"]["lag_records_estimate"].as_uint() == 30);
  CHECK(dry.err.find("dry run: nothing changed") != std::string::npos);
  CHECK((*listed(list_json(dir, ring), "billing"))["position"].as_uint() == cursor);
  const Result table = run(kConsumer, {ring, "--reset", "billing", "--to", "earliest", "--dry-run"}, dir.path());
  CHECK(table.out.find("NEW CURSOR") != std::string::npos);

  CHECK(run(kConsumer, {ring, "--reset", "billing", "--to", "-5"}, dir.path()).exit_code == 0);
  CHECK(run(kConsumer, {ring, "--name", "billing", "--until-idle", "50ms", "--quiet"}, dir.path()).out ==
        numbered_lines(25, 29));
  // To a time: the first record committed then or later (exactly record 12's commit time).
  const Result records = run(kConsumer, {ring, "--from", "earliest", "--quiet", "--until-idle", "50ms", "--show",
                                         "%T %v\\n"}, dir.path());
  std::string time_of_12;
  std::size_t first_with_that_time = 0;
  {
    std::istringstream lines(records.out);
    std::string line;
    std::vector<std::string> times;
    while (std::getline(lines, line)) times.push_back(line.substr(0, line.find(' ')));
    time_of_12 = times.at(12);
    first_with_that_time = 12;
    while (first_with_that_time > 0 && times[first_with_that_time - 1] == time_of_12) --first_with_that_time;
  }
  const std::string at = "@" + time_of_12.substr(0, time_of_12.size() - 9) + "." + time_of_12.substr(time_of_12.size() - 9);
  CHECK(run(kConsumer, {ring, "--reset", "billing", "--to", at}, dir.path()).exit_code == 0);
  CHECK(run(kConsumer, {ring, "--name", "billing", "--until-idle", "50ms", "--quiet"}, dir.path()).out ==
        numbered_lines(static_cast<int>(first_with_that_time), 29));

  Program attached(kConsumer, {ring, "--name", "billing", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumer("billing").state != "DETACHED"; }));
  const Result busy = run(kConsumer, {ring, "--reset", "billing", "--to", "earliest"}, dir.path());
  CHECK(busy.exit_code == 1);
  CHECK(busy.err.find("cannot reset consumer 'billing' while live process " + std::to_string(attached.pid())) !=
        std::string::npos);
  attached.signal(SIGTERM);
  CHECK(attached.wait() == 0);
}

TEST_CASE("a named consumer past its expiry is EXPIRED, not judged by --max-lag, and its slot is reused") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 30);
  REQUIRE(run(kConsumer, {ring, "--name", "gone", "--from", "earliest", "--count", "1", "--expire-after", "200ms",
                          "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "kept", "--from", "earliest", "--count", "1", "--quiet"}, dir.path())
              .exit_code == 0);
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumer("gone").state == "EXPIRED"; }));
  const Result over = run(kStatus, {ring, "--interval", "0", "--max-lag", "100"}, dir.path());
  CHECK(over.exit_code == 1);
  CHECK(over.err.find("consumer 'kept'") != std::string::npos);
  CHECK(over.err.find("consumer 'gone'") == std::string::npos);
  CHECK(over.err.find("--delete kept") != std::string::npos);
  const Result prometheus = run(kStatus, {ring, "--interval", "0", "--prometheus"}, dir.path());
  CHECK(prometheus.out.find("consumer=\"gone\",slot=\"0\",state=\"EXPIRED\"} 1") != std::string::npos);
  CHECK(list_json(dir, ring)["consumers"].items().at(0)["expires_in_seconds"].is_null());
}

TEST_CASE("a full consumer table is reported before it bites, and says how to make room when it does") {
  WorkDir dir;
  const std::string ring = dir / "full.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  for (int index = 0; index < 64; ++index) {
    REQUIRE(run(kConsumer, {ring, "--name", "name" + std::to_string(index), "--count", "0", "--quiet"}, dir.path())
                .exit_code == 0);
    if (index == 47) {
      const Result table = run(kStatus, {ring, "--interval", "0"}, dir.path());
      CHECK(table.out.find("consumer slots 48/64 used (nearly full: delete names that are gone") != std::string::npos);
    }
  }
  const JsonValue document = JsonValue::parse(run(kStatus, {ring, "--interval", "0", "--json"}, dir.path()).out);
  CHECK(document["consumer_slots_used"].as_uint() == 64);
  CHECK(run(kStatus, {ring, "--interval", "0"}, dir.path()).out.find("consumer slots 64/64 used (FULL") !=
        std::string::npos);
  const Result refused = run(kConsumer, {ring, "--count", "0"}, dir.path());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("all 64 consumer slots are taken; remove named consumers that are gone (delete_consumer, "
                         "ringfile-consumer --delete NAME)") != std::string::npos);
  // A tap needs no slot: it reads the full ring without one (a tester found it refused too).
  write_file(dir / "lines.txt", numbered_lines(0, 2));
  REQUIRE(run(kProducer, {ring, "--input", dir / "lines.txt", "--quiet"}, dir.path()).exit_code == 0);
  const Result tap = run(kConsumer, {ring, "--no-hold", "--from", "earliest", "--count", "3"}, dir.path());
  INFO(tap.err);
  CHECK(tap.exit_code == 0);
  CHECK(tap.out == numbered_lines(0, 2));
  CHECK(tap.err.find("every consumer slot of '" + ring + "' is taken: tapping it read-only, without a slot") !=
        std::string::npos);
  REQUIRE(run(kConsumer, {ring, "--delete", "name7"}, dir.path()).exit_code == 0);
  CHECK(run(kConsumer, {ring, "--count", "0"}, dir.path()).exit_code == 0);
}

TEST_CASE("--clear-damaged-slots frees the slots a damaged header left unreadable - --dry-run lists them") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 30);
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--from", "earliest", "--count", "10", "--quiet"}, dir.path())
              .exit_code == 0);
  // Consumer slot 7's state, as a damaged header would have it.
  const std::uint32_t unknown_state = 9;
  damage_consumer_slot(ring, 7, 0, {reinterpret_cast<const char*>(&unknown_state), sizeof unknown_state});
  const Result refused = run(kConsumer, {ring, "--list"}, dir.path());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("consumer slot 7: unknown state 9") != std::string::npos);
  CHECK(refused.err.find("--clear-damaged-slots") != std::string::npos);

  const Result listed = run(kConsumer, {ring, "--clear-damaged-slots", "--dry-run", "--json"}, dir.path());
  INFO(listed.err);
  REQUIRE(listed.exit_code == 0);
  const JsonValue found = JsonValue::parse(listed.out);
  REQUIRE(found["damaged"].items().size() == 1);
  CHECK(found["damaged"].items()[0]["table"].as_string() == "consumer");
  CHECK(found["damaged"].items()[0]["slot"].as_uint() == 7);
  CHECK(found["damaged"].items()[0]["problem"].as_string() == "unknown state 9");
  CHECK(found["damaged"].items()[0]["live_owner_pid"].is_null());
  CHECK_FALSE(found["damaged"].items()[0]["freed"].as_bool());
  CHECK(listed.err.find("dry run: nothing changed") != std::string::npos);
  CHECK(run(kConsumer, {ring, "--list"}, dir.path()).exit_code == 1);

  const Result cleared = run(kConsumer, {ring, "--clear-damaged-slots"}, dir.path());
  CHECK(cleared.exit_code == 0);
  CHECK(cleared.err.find("consumer slot 7 of '" + ring + "': unknown state 9: freed") != std::string::npos);
  // The ring opens again, and billing goes on from its cursor.
  const Result rest = run(kConsumer, {ring, "--name", "billing", "--count", "20", "--quiet"}, dir.path());
  INFO(rest.err);
  CHECK(rest.exit_code == 0);
  CHECK(rest.out == numbered_lines(10, 29));
  CHECK(run(kConsumer, {ring, "--clear-damaged-slots"}, dir.path()).err.find("no damaged slot") != std::string::npos);
}

TEST_CASE("--clear-damaged-slots leaves a damaged slot whose owner is alive, exits 1 naming it") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 5);
  Program live(kConsumer, {ring, "--name", "live", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
  const std::uint64_t slot = list_json(dir, ring)["consumers"].items()[0]["slot"].as_uint();
  // Its slot's name loses its end, as a damaged header would have it, under the live owner.
  damage_consumer_slot(ring, slot, offsetof(ringfile::format::ConsumerSlot, name),
                       std::string(ringfile::format::kConsumerNameBytes, 'x'));
  const Result refused = run(kConsumer, {ring, "--clear-damaged-slots"}, dir.path());
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("consumer slot " + std::to_string(slot) + " of '" + ring +
                         "': name is not terminated: its owner, process " + std::to_string(live.pid()) +
                         ", is alive") != std::string::npos);
  CHECK(refused.err.find("freed") == std::string::npos);
  CHECK(run(kConsumer, {ring, "--list"}, dir.path()).exit_code == 1);  // still damaged

  live.signal(SIGKILL);
  CHECK(live.wait() == 128 + SIGKILL);
  const Result cleared = run(kConsumer, {ring, "--clear-damaged-slots"}, dir.path());
  INFO(cleared.err);
  CHECK(cleared.exit_code == 0);
  CHECK(cleared.err.find("name is not terminated: freed") != std::string::npos);
  CHECK(run(kConsumer, {ring, "--list"}, dir.path()).exit_code == 0);
}

TEST_CASE("a named consumer that comes back past its expiry says it starts afresh") {
  WorkDir dir;
  const std::string ring = dir / "orders.ring";
  create_with_lines(dir, ring, 3);
  REQUIRE(run(kConsumer, {ring, "--name", "brief", "--expire-after", "1ms", "--count", "0", "--quiet"}, dir.path())
              .exit_code == 0);
  // Past its expiry once its last-seen time is more than 1 ms ago, as --list says.
  REQUIRE(eventually([&] { return (*listed(list_json(dir, ring), "brief"))["state"].as_string() == "EXPIRED"; }));
  const Result returned = run(kConsumer, {ring, "--name", "brief", "--count", "0"}, dir.path());
  CHECK(returned.exit_code == 0);
  CHECK(returned.err.find("warning: consumer 'brief' had expired") != std::string::npos);
  // One that comes back in time says nothing of the kind.
  REQUIRE(run(kConsumer, {ring, "--name", "steady", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  CHECK(run(kConsumer, {ring, "--name", "steady", "--count", "0"}, dir.path()).err.find("expired") == std::string::npos);
}
