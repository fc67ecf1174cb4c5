// ringfile-status reports the lags and states a test arranges, in JSON, Prometheus and table
// form, and reads rings it cannot write without changing a byte.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/format/file_header.hpp"
#include "support/crash_images.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

void create_ring(const WorkDir& dir, const std::string& ring, const std::string& size, const std::string& policy) {
  const Result created = run(kProducer, {ring, "--create", "--size", size, "--policy", policy, "--count", "0"}, dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
}

// Columns of UTF-8 text: bytes that do not continue a character.
std::size_t display_columns(const std::string& text) {
  std::size_t columns = 0;
  for (const char byte : text) columns += (static_cast<unsigned char>(byte) & 0xC0) != 0x80 ? 1 : 0;
  return columns;
}

// Records of 88 bytes, which ringfile-producer writes 32 to a group frame (write_batch): a 40-byte
// header and a 96-byte entry a record, the group's space running on to the next 64-byte line.
std::uint64_t group_bytes(std::uint64_t records) { return (40 + records * 96 + 63) / 64 * 64; }
// The position of the record `index` (from 0) of a run of records written from `start`.
std::uint64_t record_position(std::uint64_t start, std::uint64_t index) {
  return start + index / 32 * group_bytes(32) + 40 + index % 32 * 96;
}

void produce_synthetic(const WorkDir& dir, const std::string& ring, int count) {
  const Result produced =
      run(kProducer, {ring, "--synthetic", "--record-size", "88", "--count", std::to_string(count)}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
}

// A block-policy ring "held.ring" with consumer "slowpoke" attached and stopped (SIGSTOP)
// before it read anything, then a synthetic producer started: it fills the ring and waits.
struct HeldProducer {
  explicit HeldProducer(const WorkDir& dir) : ring(dir / "held.ring") {
    create_ring(dir, ring, "64K", "block");
    slowpoke.emplace(kConsumer, std::vector<std::string>{ring, "--name", "slowpoke", "--discard"}, dir.path());
    REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
    slowpoke->stop_outside_table_lock(ring);
    producer.emplace(kProducer, std::vector<std::string>{ring, "--synthetic", "--record-size", "1K"}, dir.path());
  }
  std::string ring;
  std::optional<Program> slowpoke;
  std::optional<Program> producer;
};

}  // namespace

TEST_CASE("status --json: a consumer stopped mid-way lags by exactly what it has not read, a killed one is DEAD") {
  WorkDir dir;
  const std::string ring = dir / "lag.ring";
  create_ring(dir, ring, "1M", "block");
  // 'reader' reads 40 of the first 100 records and detaches; 'follower' reads all 100 and is
  // then stopped (SIGSTOP) while 50 more arrive.
  Program reader(kConsumer, {ring, "--name", "reader", "--count", "40", "--discard"}, dir.path());
  Program follower(kConsumer, {ring, "--name", "follower", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 2; }));
  produce_synthetic(dir, ring, 100);
  REQUIRE(reader.wait() == 0);
  const std::uint64_t first_head = status_of(ring, dir.path()).head;
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumer("follower").position == first_head; }));
  follower.stop_outside_table_lock(ring);
  produce_synthetic(dir, ring, 50);

  const StatusDocument stopped = status_of(ring, dir.path(), "200ms");
  CHECK(first_head == 3 * group_bytes(32) + group_bytes(4));
  CHECK(stopped.head == first_head + group_bytes(32) + group_bytes(18));
  const StatusConsumer& detached = stopped.consumer("reader");
  CHECK(detached.state == "DETACHED");
  CHECK(detached.position == record_position(0, 40));
  CHECK(detached.lag_bytes == stopped.head - record_position(0, 40));
  CHECK(detached.lag_records_estimate == std::optional<std::uint64_t>(110));
  REQUIRE(detached.lag_seconds.has_value());
  CHECK(*detached.lag_seconds >= 0.0);
  const StatusConsumer& stalled = stopped.consumer("follower");
  CHECK(stalled.state == "STALLED");
  CHECK(stalled.alive);
  CHECK(stalled.pid == static_cast<std::uint64_t>(follower.pid()));
  CHECK(stalled.holds_back);
  CHECK(stalled.position == first_head);
  CHECK(stalled.lag_bytes == stopped.head - first_head);
  CHECK(stalled.lag_records_estimate == std::optional<std::uint64_t>(50));

  follower.signal(SIGKILL);
  CHECK(follower.wait() == 128 + SIGKILL);
  const StatusConsumer dead = status_of(ring, dir.path()).consumer("follower");
  CHECK(dead.state == "DEAD");
  CHECK_FALSE(dead.alive);
  CHECK(dead.lag_bytes == stopped.head - first_head);

  SUBCASE("--max-lag exits 1 naming each consumer over the limit, 0 when all are within it") {
    const Result over = run(kStatus, {ring, "--interval", "0", "--max-lag", std::to_string(60 * 100)}, dir.path());
    CHECK(over.exit_code == 1);
    CHECK(over.err.find("consumer 'reader'") != std::string::npos);
    CHECK(over.err.find("consumer 'follower'") == std::string::npos);  // 50 records: within
    CHECK(over.err.find("more than --max-lag") != std::string::npos);
    CHECK(run(kStatus, {ring, "--interval", "0", "--max-lag", "1M"}, dir.path()).exit_code == 0);
    CHECK(run(kStatus, {ring, "--interval", "0", "--max-lag", "1h"}, dir.path()).exit_code == 0);
  }
  SUBCASE("--prometheus exposes the same lag and one state series per state") {
    const Result exposition = run(kStatus, {ring, "--interval", "0", "--prometheus"}, dir.path());
    REQUIRE(exposition.exit_code == 0);
    const std::string reader_labels =
        "ring=\"" + ring + "\",consumer=\"reader\",slot=\"" + std::to_string(detached.slot) + "\"";
    CHECK(exposition.out.find("# TYPE ringfile_consumer_lag_bytes gauge\n") != std::string::npos);
    CHECK(exposition.out.find("ringfile_consumer_lag_bytes{" + reader_labels + "} " + std::to_string(stopped.head - record_position(0, 40)) +
                              "\n") != std::string::npos);
    CHECK(exposition.out.find("ringfile_consumer_state{" + reader_labels + ",state=\"DETACHED\"} 1\n") !=
          std::string::npos);
    CHECK(exposition.out.find("ringfile_consumer_state{" + reader_labels + ",state=\"OK\"} 0\n") != std::string::npos);
  }
  SUBCASE("the table names every consumer with its state; --watch without a terminal prints plain blocks") {
    const Result table = run(kStatus, {ring, "--interval", "0"}, dir.path());
    REQUIRE(table.exit_code == 0);
    CHECK(table.out.find("reader") != std::string::npos);
    CHECK(table.out.find("DETACHED") != std::string::npos);
    // The dead one reads nothing: no READING mode (it was 'following', as its slot last said).
    const std::size_t dead_row = table.out.find("follower ");
    REQUIRE(dead_row != std::string::npos);
    const std::string dead_line = table.out.substr(dead_row, table.out.find('\n', dead_row) - dead_row);
    INFO(dead_line);
    const std::size_t state = dead_line.find("DEAD");
    REQUIRE(state != std::string::npos);
    const std::size_t reading = dead_line.find_first_not_of(' ', state + 4);  // the next column
    REQUIRE(reading != std::string::npos);
    CHECK(dead_line.compare(reading, 2, "- ") == 0);
    const Result watched = run(kStatus, {ring, "--watch", "50ms", "--count", "3"}, dir.path());
    REQUIRE(watched.exit_code == 0);
    std::size_t blocks = 0;
    for (std::size_t at = watched.out.find("ringfile-status  "); at != std::string::npos;
         at = watched.out.find("ringfile-status  ", at + 1)) {
      ++blocks;
    }
    CHECK(blocks == 3);
    CHECK(watched.out.find('\x1b') == std::string::npos);
  }
}

TEST_CASE("a consumer stopped after a group's last record shows the age of its lag, and --max-lag flags it by time") {
  WorkDir dir;
  const std::string ring = dir / "group.ring";
  create_ring(dir, ring, "1M", "block");
  produce_synthetic(dir, ring, 100);
  REQUIRE(run(kConsumer, {ring, "--name", "g", "--from", "earliest", "--count", "32", "--discard"}, dir.path()).exit_code == 0);
  // Found by a tester: its cursor stands on the padding from the group's end to the next line,
  // where no record starts, and its lag had no age: "-", null, never over a --max-lag in time.
  const StatusConsumer g = status_of(ring, dir.path()).consumer("g");
  CHECK(g.position == 40 + 32 * 96);
  CHECK(g.position < group_bytes(32));
  REQUIRE(g.lag_seconds.has_value());
  CHECK(*g.lag_seconds >= 0.0);
  // Its oldest unread record was committed before this consumer even started.
  const Result over = run(kStatus, {ring, "--interval", "0", "--max-lag", "1us"}, dir.path());
  CHECK(over.exit_code == 1);
  CHECK(over.err.find("consumer 'g'") != std::string::npos);
  const Result listed = run(kConsumer, {ring, "--list", "--json"}, dir.path());
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find("\"lag_seconds\":null") == std::string::npos);
}

TEST_CASE("status shows a consumer lapped under the overwrite policy as LAPPED, --verify counts it as lost, not corrupt") {
  WorkDir dir;
  const std::string ring = dir / "overwrite.ring";
  create_ring(dir, ring, "256K", "overwrite");
  Program verifier(kConsumer, {ring, "--verify", "--json", "--quiet"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
  verifier.stop_outside_table_lock(ring);
  const Result produced = run(kProducer, {ring, "--synthetic", "--record-size", "1K", "--bytes", "1M"}, dir.path());
  REQUIRE(produced.exit_code == 0);

  const StatusDocument lapped = status_of(ring, dir.path());
  REQUIRE(lapped.consumers.size() == 1);
  CHECK(lapped.consumers[0].state == "LAPPED");
  CHECK(lapped.consumers[0].lag_bytes > lapped.capacity);
  // Its oldest unread record is overwritten, so its lag has no age: over any --max-lag in time
  // all the same (a tester found it passed over).
  CHECK_FALSE(lapped.consumers[0].lag_seconds.has_value());
  const Result over = run(kStatus, {ring, "--interval", "0", "--max-lag", "1h"}, dir.path());
  CHECK(over.exit_code == 1);
  CHECK(over.err.find("more than a whole ring (256.0 KiB)") != std::string::npos);

  verifier.signal(SIGCONT);
  REQUIRE(eventually([&] {
    const StatusDocument now = status_of(ring, dir.path());
    return now.consumers[0].position == now.head;
  }));
  verifier.signal(SIGTERM);
  INFO(verifier.err());
  CHECK(verifier.wait() == 0);
  const JsonValue summary = JsonValue::parse(verifier.out());
  const JsonValue& verify = summary["verify"];
  CHECK(verify["ok"].as_bool());
  CHECK(verify["corrupt"].as_uint() == 0);
  CHECK(verify["duplicates"].as_uint() == 0);
  CHECK(verify["lost_records"].as_uint() > 0);
  CHECK(summary["lost_bytes"].as_uint() > 0);
  CHECK(verify["records"].as_uint() + verify["lost_records"].as_uint() == 1024);  // each read or counted lost
}

TEST_CASE("status reads a ring it may not write, and leaves every byte of it unchanged") {
  WorkDir dir;
  const std::string ring = dir / "readonly.ring";
  create_ring(dir, ring, "256K", "block");
  Program reader(kConsumer, {ring, "--name", "reader", "--count", "10", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
  produce_synthetic(dir, ring, 30);
  REQUIRE(reader.wait() == 0);

  const std::string before = read_file(ring);
  struct stat stat_before {};
  REQUIRE(::stat(ring.c_str(), &stat_before) == 0);
  REQUIRE(::chmod(ring.c_str(), 0444) == 0);

  // A user who may read the ring and not write it.
  std::string why_not;
  const std::optional<UnprivilegedProgram> writer = unprivileged(kProducer, dir.path(), &why_not);
  const std::optional<UnprivilegedProgram> monitor = unprivileged(kStatus, dir.path(), &why_not);
  if (!writer || !monitor) {
    MESSAGE("skipped: " << why_not);
    return;
  }
  const Result refused = run(writer->binary, {ring, "--synthetic", "--count", "1"}, dir.path(), writer->launch);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("permission denied") != std::string::npos);
  const std::string& status_binary = monitor->binary;
  const Launch& as_reader = monitor->launch;
  for (const char* format : {"--json", "--prometheus", "--no-color"}) {
    const Result status = run(status_binary, {ring, format, "--interval", "100ms"}, dir.path(), as_reader);
    INFO(format << ": " << status.err);
    CHECK(status.exit_code == 0);
    CHECK(status.out.find("reader") != std::string::npos);
  }
  const StatusConsumer seen = parse_status_document(
      run(status_binary, {ring, "--json", "--interval", "0"}, dir.path(), as_reader).out).consumer("reader");
  CHECK(seen.state == "DETACHED");
  CHECK(seen.lag_records_estimate == std::optional<std::uint64_t>(20));

  struct stat stat_after {};
  REQUIRE(::stat(ring.c_str(), &stat_after) == 0);
  CHECK(read_file(ring) == before);
  CHECK(stat_after.st_mtim.tv_sec == stat_before.st_mtim.tv_sec);
  CHECK(stat_after.st_mtim.tv_nsec == stat_before.st_mtim.tv_nsec);
}

TEST_CASE("a producer held back shows as WAITING, since when and for which consumer - in JSON and Prometheus too") {
  WorkDir dir;
  HeldProducer held_back(dir);
  const std::string& ring = held_back.ring;
  Program& slowpoke = *held_back.slowpoke;
  Program& producer = *held_back.producer;
  StatusDocument held;
  REQUIRE(eventually([&] {
    held = status_of(ring, dir.path());
    return held.producers_waiting == 1 && held.producers.at(0).waiting_seconds.value_or(0) > 0.3;
  }));
  const StatusProducer& waiting = held.producers.at(0);
  CHECK(waiting.waiting);
  CHECK(waiting.waiting_for == std::optional<std::string>("slowpoke"));
  CHECK(waiting.pid == static_cast<std::uint64_t>(producer.pid()));

  const Result table = run(kStatus, {ring, "--interval", "0", "--no-color"}, dir.path());
  CHECK(table.out.find("1 producer waiting for space") != std::string::npos);
  CHECK(table.out.find("WAITING  slowpoke") != std::string::npos);
  const Result exposition = run(kStatus, {ring, "--interval", "0", "--prometheus"}, dir.path());
  CHECK(exposition.out.find("ringfile_producers_waiting{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(exposition.out.find("ringfile_producer_waiting{ring=\"" + ring + "\",slot=\"0\"} 1\n") != std::string::npos);

  // Released: no longer waiting, and the wait is counted in its total.
  slowpoke.signal(SIGCONT);
  StatusDocument released;
  REQUIRE(eventually([&] {
    released = status_of(ring, dir.path());
    // The total is written when a wait ends: the held wait ended and was counted. (The producer
    // refills the ring at once and may be waiting again at any sample after.)
    return released.producers.at(0).waited_seconds_total > 0.3;
  }));
  producer.signal(SIGTERM);
  CHECK(producer.wait() == 0);
  slowpoke.signal(SIGTERM);
  CHECK(slowpoke.wait() == 0);
}

TEST_CASE("--watch in an 80-column terminal redraws in place: no line is wider than the terminal") {
  const auto script = find_in_path("script");
  if (!script) {
    MESSAGE("skipped: script not found (Debian package bsdutils)");
    return;
  }
  WorkDir dir;
  const std::string ring = dir / "watched.ring";
  create_ring(dir, ring, "1M", "block");
  Program reader(kConsumer, {ring, "--name", "a-consumer-with-a-long-name", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
  produce_synthetic(dir, ring, 100);
  // script runs the command in a pseudo-terminal; with no size set on it, COLUMNS gives the width.
  write_file(dir / "watch.sh", "COLUMNS=80 exec '" + kStatus + "' '" + ring + "' --watch 50ms --count 3\n");
  const Result watched = run(*script, {"--quiet", "--return", "--command", "sh " + dir / "watch.sh", "/dev/null"},
                             dir.path());
  REQUIRE(watched.exit_code == 0);
  std::size_t widest = 0;
  std::size_t lines = 0;
  std::string line;
  for (std::size_t index = 0; index < watched.out.size(); ++index) {
    const char character = watched.out[index];
    if (character == '\x1b') {  // an escape sequence takes no column
      while (index + 1 < watched.out.size() && !std::isalpha(static_cast<unsigned char>(watched.out[index + 1]))) ++index;
      ++index;
      continue;
    }
    if (character == '\r') continue;
    if (character == '\n') {
      widest = std::max(widest, display_columns(line));
      line.clear();
      ++lines;
      continue;
    }
    line += character;
  }
  CHECK(lines > 10);
  CHECK(widest <= 79);
  CHECK(watched.out.find("a-consumer-with-a-long-name") != std::string::npos);
  CHECK(watched.out.find("STATE") != std::string::npos);
  reader.signal(SIGTERM);
  CHECK(reader.wait() == 0);
}

TEST_CASE("a producer killed while it waits shows as DEAD, and no longer counts as waiting") {
  WorkDir dir;
  HeldProducer held_back(dir);
  const std::string& ring = held_back.ring;
  Program& slowpoke = *held_back.slowpoke;
  Program& producer = *held_back.producer;
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).producers_waiting == 1; }));
  producer.signal(SIGKILL);
  CHECK(producer.wait() == 128 + SIGKILL);

  // Before, its wait state stayed in the slot: WAITING, and counted, for as long as the slot.
  const StatusDocument after = status_of(ring, dir.path());
  CHECK(after.producers_waiting == 0);
  REQUIRE(after.producers.size() == 1);
  CHECK_FALSE(after.producers.at(0).alive);
  CHECK_FALSE(after.producers.at(0).waiting);
  const Result table = run(kStatus, {ring, "--interval", "0", "--no-color"}, dir.path());
  CHECK(table.out.find("no     DEAD") != std::string::npos);
  CHECK(table.out.find("WAITING  slowpoke") == std::string::npos);
  const Result exposition = run(kStatus, {ring, "--interval", "0", "--prometheus"}, dir.path());
  CHECK(exposition.out.find("ringfile_producers_waiting{ring=\"" + ring + "\"} 0\n") != std::string::npos);
  slowpoke.signal(SIGCONT);
  slowpoke.signal(SIGTERM);
  CHECK(slowpoke.wait() == 0);
}

TEST_CASE("--watch --json follows the ring's path: a ring put in its place is shown, one removed is said once and left out") {
  WorkDir dir;
  const std::string ring = dir / "watched.ring";
  create_ring(dir, ring, "1M", "block");
  Program watch(kStatus, {ring, "--watch", "50ms", "--json"}, dir.path());
  // The whole documents printed from byte `from` of the output on.
  const auto documents_from = [&](std::size_t from) {
    const std::string out = watch.out();
    std::vector<StatusDocument> documents;
    for (std::size_t end = 0; from < out.size() && (end = out.find('\n', from)) != std::string::npos; from = end + 1) {
      documents.push_back(parse_status_document(out.substr(from, end - from)));
    }
    return documents;
  };
  const auto shown_from = [&](std::size_t from, std::uint64_t capacity) {
    const std::vector<StatusDocument> documents = documents_from(from);
    return std::any_of(documents.begin(), documents.end(),
                       [&](const StatusDocument& document) { return document.capacity == capacity; });
  };
  REQUIRE(eventually([&] { return shown_from(0, 1u << 20); }));
  // Another ring renamed over it, the path never missing: before, the old file was shown on.
  create_ring(dir, dir / "next.ring", "2M", "block");
  std::filesystem::rename(dir / "next.ring", ring);
  CHECK(eventually([&] { return shown_from(0, 2u << 20); }));
  CHECK(watch.err().empty());
  // Removed: said once on stderr, and no document of it until a ring is there again.
  std::filesystem::remove(ring);
  const std::string missing = "'" + ring + "': no such file";
  REQUIRE(eventually([&] { return watch.err().find(missing) != std::string::npos; }));
  const std::size_t after_removal = watch.out().size();
  create_ring(dir, ring, "4M", "block");
  CHECK(eventually([&] { return shown_from(after_removal, 4u << 20); }));
  for (const StatusDocument& document : documents_from(after_removal)) CHECK(document.capacity == 4u << 20);
  for (const StatusDocument& document : documents_from(0)) CHECK(document.path == ring);
  const std::string said = watch.err();
  CHECK(said.find(missing) == said.rfind(missing));
  watch.signal(SIGTERM);
  CHECK(watch.wait() == 1);  // a ring could not be read for a while
}

TEST_CASE("a consumer that lost bytes before it saw any record of their producer shows LOST ? and null, not 0") {
  WorkDir dir;
  const std::string ring = dir / "overwrite.ring";
  create_ring(dir, ring, "256K", "overwrite");
  REQUIRE(run(kConsumer, {ring, "--name", "gone", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kProducer, {ring, "--synthetic", "--record-size", "1K", "--bytes", "1M"}, dir.path()).exit_code == 0);
  const Result returned = run(kConsumer, {ring, "--name", "gone", "--count", "10", "--discard", "--json"}, dir.path());
  REQUIRE(returned.exit_code == 0);
  const JsonValue summary = JsonValue::parse(returned.out);
  REQUIRE(summary["lost_bytes"].as_uint() > 0);
  REQUIRE(summary["lost_records"].is_null());  // how the consumer itself says it

  // Found by a tester: status, --list, --describe and the Prometheus counter said 0 lost records,
  // which an alert on lost records takes for no loss.
  const StatusDocument status = status_of(ring, dir.path());
  REQUIRE(status.consumers.size() == 1);
  CHECK_FALSE(status.consumers[0].lost_records.has_value());
  const Result table = run(kStatus, {ring, "--interval", "0"}, dir.path());
  REQUIRE(table.exit_code == 0);
  const std::size_t row = table.out.find("gone ");
  REQUIRE(row != std::string::npos);
  const std::string line = table.out.substr(row, table.out.find('\n', row) - row);
  INFO(line);
  CHECK(line.substr(line.find_last_not_of(' ')) == "?");  // the LOST column, the last
  const Result listed = run(kConsumer, {ring, "--list", "--json"}, dir.path());
  REQUIRE(listed.exit_code == 0);
  CHECK(JsonValue::parse(listed.out)["consumers"].items()[0]["lost_records"].is_null());
  const Result described = run(kConsumer, {ring, "--describe", "gone"}, dir.path());
  CHECK(described.out.find("to lapping (how many records is unknown)") != std::string::npos);
}

TEST_CASE("a consumer slot whose cursor is beyond the head is DAMAGED: status says what and exits 1, once per ring") {
  WorkDir dir;
  const std::string ring = dir / "crashed.ring";
  create_ring(dir, ring, "256K", "block");
  REQUIRE(run(kConsumer, {ring, "--name", "billing", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  produce_synthetic(dir, ring, 100);
  const StatusDocument before = status_of(ring, dir.path());
  REQUIRE(before.consumers.size() == 1);
  CHECK(before.consumers[0].state == "DETACHED");
  // A crash of the machine that wrote back the slot's page and not the head's leaves it so
  // (found by a tester: it showed as a lag of 0).
  const std::uint64_t beyond = before.head + 4096;
  damage_consumer_slot(ring, before.consumers[0].slot, offsetof(ringfile::format::ConsumerSlot, cursor),
                       {reinterpret_cast<const char*>(&beyond), sizeof beyond});

  const Result json = run(kStatus, {ring, "--json", "--interval", "0"}, dir.path());
  CHECK(json.exit_code == 1);
  CHECK(json.err.find("consumer 'billing' (slot " + std::to_string(before.consumers[0].slot) + ") of '" + ring +
                      "': its cursor " + std::to_string(beyond) + " is beyond the head " +
                      std::to_string(before.head)) != std::string::npos);
  const JsonValue document = JsonValue::parse(json.out.substr(0, json.out.find('\n')));
  const JsonValue& consumer = document["consumers"].items()[0];
  CHECK(consumer["state"].as_string() == "DAMAGED");
  CHECK(consumer["damage"].as_string().find("--from latest or --from earliest") != std::string::npos);
  // The consumer itself refuses to resume there, and says the same.
  const Result resumed = run(kConsumer, {ring, "--name", "billing", "--count", "1", "--quiet"}, dir.path());
  CHECK(resumed.exit_code == 1);
  CHECK(resumed.err.find("beyond the ring's head") != std::string::npos);

  // Watched: said once, not at every sample, and the exit status still 1.
  const Result watched = run(kStatus, {ring, "--watch", "10ms", "--json", "--count", "3"}, dir.path());
  CHECK(watched.exit_code == 1);
  CHECK(std::count(watched.out.begin(), watched.out.end(), '\n') == 3);
  const std::size_t first = watched.err.find("is beyond the head");
  REQUIRE(first != std::string::npos);
  CHECK(watched.err.find("is beyond the head", first + 1) == std::string::npos);
}
