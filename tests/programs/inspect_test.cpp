// Looking into a ring with ringfile-consumer: JSON lines, --show templates and hex dumps with each
// record's metadata; starting at a position, at the N-th last record or at a time, stopping at a
// time; and summary lines that say what they can know.
#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

void create_ring(const WorkDir& dir, const std::string& ring) {
  const Result created = run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
}

void produce(const WorkDir& dir, const std::string& ring, const std::string& bytes, const std::string& format) {
  write_file(dir / "input", bytes);
  const Result produced = run(kProducer, {ring, "--input", dir / "input", "--format", format, "--quiet"}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
}

std::string frame(const std::string& payload) {
  const auto length = static_cast<std::uint32_t>(payload.size());
  return std::string{static_cast<char>(length & 0xff), static_cast<char>(length >> 8 & 0xff),
                     static_cast<char>(length >> 16 & 0xff), static_cast<char>(length >> 24 & 0xff)} +
         payload;
}

std::vector<JsonValue> json_lines(const std::string& text) {
  std::vector<JsonValue> values;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) values.push_back(JsonValue::parse(line));
  return values;
}

// Every record of the ring, as --format jsonl gives them.
std::vector<JsonValue> all_records(const WorkDir& dir, const std::string& ring) {
  const Result read = run(kConsumer, {ring, "--from", "earliest", "--format", "jsonl", "--until-idle", "50ms",
                                      "--quiet"}, dir.path());
  INFO(read.err);
  REQUIRE(read.exit_code == 0);
  return json_lines(read.out);
}

}  // namespace

TEST_CASE("--format jsonl: one object per record with its metadata - text when UTF-8, else base64") {
  WorkDir dir;
  const std::string ring = dir / "inspect.ring";
  create_ring(dir, ring);
  const std::string binary("\x00\xff\x01\"quoted\"\n", 12);
  produce(dir, ring, frame("plain") + frame("caf\xc3\xa9 \"x\"\tz") + frame(binary) + frame(""), "frames");

  const std::vector<JsonValue> records = all_records(dir, ring);
  REQUIRE(records.size() == 4);
  CHECK(records[0]["position"].as_uint() == 0);
  CHECK(records[0]["payload"].as_string() == "plain");
  CHECK(records[0]["length"].as_uint() == 5);
  CHECK(records[0]["producer"].as_uint() == 0);
  CHECK(records[1]["sequence"].as_uint() == 1);
  CHECK(records[1]["payload"].as_string() == "caf\xc3\xa9 \"x\"\tz");
  CHECK(records[2]["payload_base64"].as_string() == "AP8BInF1b3RlZCIK");  // base64 of the 12 bytes
  CHECK(records[2]["length"].as_uint() == 12);
  CHECK(records[3]["payload"].as_string().empty());
  // Positions are those of the frames, 8-byte aligned; times are ISO 8601 in UTC and in ns.
  CHECK(records[1]["position"].as_uint() == 48);
  const std::string time = records[0]["time"].as_string();
  CHECK(time.size() == 30);
  CHECK(time.back() == 'Z');
  CHECK(records[0]["time_ns"].as_uint() <= records[1]["time_ns"].as_uint());
}

TEST_CASE("--show writes each record through a kcat-style template - --format hex dumps binary payloads") {
  WorkDir dir;
  const std::string ring = dir / "show.ring";
  create_ring(dir, ring);
  produce(dir, ring, frame("two\nlines") + frame(std::string("\x01\x02 ok", 5)), "frames");
  const std::vector<JsonValue> records = all_records(dir, ring);
  REQUIRE(records.size() == 2);

  const Result shown = run(kConsumer, {ring, "--from", "earliest", "--until-idle", "50ms", "--quiet", "--show",
                                       "%p|%P|%s|%l|%T|%e|%%\\t%v\\n"}, dir.path());
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out == "0|0|0|9|" + std::to_string(records[0]["time_ns"].as_uint()) + "|two\\nlines|%\ttwo\nlines\n" +
                         std::to_string(records[1]["position"].as_uint()) + "|0|1|5|" +
                         std::to_string(records[1]["time_ns"].as_uint()) + "|\\x01\\x02 ok|%\t\x01\x02 ok\n");
  const Result timed = run(kConsumer, {ring, "--from", "earliest", "--count", "1", "--quiet", "--show", "%t"}, dir.path());
  CHECK(timed.out == records[0]["time"].as_string());

  const Result dumped = run(kConsumer, {ring, "--from", "earliest", "--until-idle", "50ms", "--quiet", "--format", "hex"},
                            dir.path());
  REQUIRE(dumped.exit_code == 0);
  CHECK(dumped.out.find("position 0  time " + records[0]["time"].as_string() + "  producer 0  sequence 0  length 9\n"
                        "00000000  74 77 6f 0a 6c 69 6e 65  73                       |two.lines|\n\n") == 0);
  CHECK(dumped.out.find("00000000  01 02 20 6f 6b                                    |.. ok|\n") != std::string::npos);
}

TEST_CASE("--show %e escapes what acts on a terminal or the line though it is valid UTF-8, and nothing else") {
  WorkDir dir;
  const std::string ring = dir / "escapes.ring";
  create_ring(dir, ring);
  // CSI as U+009B, a next line U+0085, a right-to-left override U+202E, a line separator U+2028,
  // then letters outside ASCII that show as they are.
  produce(dir, ring, frame("\xc2\x9b" "31m\xc2\x85\xe2\x80\xae" "abc\xe2\x80\xa8" "caf\xc3\xa9 \xe6\x97\xa5"), "frames");
  const Result shown =
      run(kConsumer, {ring, "--from", "earliest", "--count", "1", "--quiet", "--show", "%e\\n"}, dir.path());
  REQUIRE(shown.exit_code == 0);
  CHECK(shown.out == "\\u009b31m\\u0085\\u202eabc\\u2028caf\xc3\xa9 \xe6\x97\xa5\n");
  // Such a name is refused where it is given.
  const Result named = run(kConsumer, {ring, "--name", "a\xc2\x9b" "2J"}, dir.path());
  CHECK(named.exit_code == 2);
  CHECK(named.err.find("holds a control character (U+009B)") != std::string::npos);
}

TEST_CASE("--format lines: to a terminal each record is one escaped line; elsewhere records with a newline are counted") {
  WorkDir dir;
  const std::string ring = dir / "lines.ring";
  create_ring(dir, ring);
  // Colours, a window title and a cleared screen, then a record of two lines.
  produce(dir, ring, frame("\x1b[31mred\x1b]0;title\x07\x1b[2J") + frame("one\ntwo"), "frames");
  const Result piped = run(kConsumer, {ring, "--from", "earliest", "--count", "2"}, dir.path());
  REQUIRE(piped.exit_code == 0);
  CHECK(piped.out == "\x1b[31mred\x1b]0;title\x07\x1b[2J\none\ntwo\n");  // the bytes as they are
  CHECK(piped.err.find("1 record held a newline and went out as more than one line") != std::string::npos);

  const auto script = find_in_path("script");
  if (!script) {
    MESSAGE("skipped the terminal: script not found (Debian package bsdutils)");
    return;
  }
  write_file(dir / "read.sh", "exec '" + kConsumer + "' '" + ring + "' --from earliest --count 2 --quiet\n");
  const Result shown = run(*script, {"--quiet", "--return", "--command", "sh " + dir / "read.sh", "/dev/null"},
                           dir.path());
  REQUIRE(shown.exit_code == 0);
  // The terminal ends its lines with \r\n.
  CHECK(shown.out == "\\x1b[31mred\\x1b]0;title\\x07\\x1b[2J\r\none\\ntwo\r\n");
}

TEST_CASE("--from: a position inside a record is refused naming the next, --next-boundary goes there - -N") {
  WorkDir dir;
  const std::string ring = dir / "seek.ring";
  create_ring(dir, ring);
  std::string lines;
  for (int number = 0; number < 20; ++number) lines += "record-" + std::to_string(number) + "\n";
  produce(dir, ring, lines, "lines");

  const Result inside = run(kConsumer, {ring, "--from", "13", "--count", "1"}, dir.path());
  CHECK(inside.exit_code == 2);
  CHECK(inside.err.find("position 13 is inside a record, not at its start; the next record starts at 48") !=
        std::string::npos);
  const Result rounded = run(kConsumer, {ring, "--from", "13", "--next-boundary", "--count", "2", "--quiet"}, dir.path());
  CHECK(rounded.out == "record-1\nrecord-2\n");
  const Result last = run(kConsumer, {ring, "--from", "-3", "--until-idle", "50ms", "--quiet"}, dir.path());
  CHECK(last.out == "record-17\nrecord-18\nrecord-19\n");
  const Result more_than_all = run(kConsumer, {ring, "--from=-500", "--until-idle", "50ms", "--quiet"}, dir.path());
  CHECK(more_than_all.out == lines);
}

TEST_CASE("--from TIME starts at the first record committed then - --until TIME stops before the first after") {
  WorkDir dir;
  const std::string ring = dir / "times.ring";
  create_ring(dir, ring);
  std::string lines;
  for (int number = 0; number < 50; ++number) lines += "record-" + std::to_string(number) + "\n";
  produce(dir, ring, lines, "lines");
  const std::vector<JsonValue> records = all_records(dir, ring);
  REQUIRE(records.size() == 50);
  // Unix seconds with nanoseconds: exactly the commit time of record 20, then of record 30.
  const auto at = [&](std::size_t index) {
    const std::uint64_t time_ns = records[index]["time_ns"].as_uint();
    char text[64];
    std::snprintf(text, sizeof text, "@%llu.%09llu", static_cast<unsigned long long>(time_ns / 1'000'000'000),
                  static_cast<unsigned long long>(time_ns % 1'000'000'000));
    return std::string(text);
  };
  std::size_t first = 20;
  while (first > 0 && records[first - 1]["time_ns"].as_uint() == records[20]["time_ns"].as_uint()) --first;
  std::size_t end = 30;
  while (end > 0 && records[end - 1]["time_ns"].as_uint() == records[30]["time_ns"].as_uint()) --end;
  const Result window = run(kConsumer, {ring, "--from", at(20), "--until", at(30), "--quiet"}, dir.path());
  INFO(window.err);
  CHECK(window.exit_code == 0);  // stops by itself: everything committed from now on is later
  std::string expected;
  for (std::size_t index = first; index < end; ++index) expected += "record-" + std::to_string(index) + "\n";
  CHECK(window.out == expected);
  // ISO 8601 and "ago" are the same search.
  const Result recent = run(kConsumer, {ring, "--from", "10m-ago", "--until-idle", "50ms", "--quiet"}, dir.path());
  CHECK(recent.out == lines);
  const Result future = run(kConsumer, {ring, "--from", "2200-01-01T00:00:00Z", "--until-idle", "50ms", "--quiet"},
                            dir.path());
  CHECK(future.out.empty());
}

// Found by a tester: a consumer started before its producer counted the wait in its rate.
TEST_CASE("summary: the rate leaves out the wait for the first record") {
  WorkDir dir;
  const std::string ring = dir / "summary.ring";
  create_ring(dir, ring);
  Program consumer(kConsumer, {ring, "--count", "1000", "--discard", "--json"}, dir.path());
  // Waiting before anything is written: its heartbeat, stored as it attached, is stored again
  // (at most every 100 ms) by its wait, which comes after its first poll.
  const auto heartbeat = [&]() -> std::optional<double> {
    const JsonValue status = JsonValue::parse(run(kStatus, {ring, "--interval", "0", "--json"}, dir.path()).out);
    if (status["consumers"].items().size() != 1) return std::nullopt;
    return status["time"].as_double() - status["consumers"].items().at(0)["heartbeat_age_seconds"].as_double();
  };
  std::optional<double> attached_beat;
  REQUIRE(eventually([&] { return (attached_beat = heartbeat()).has_value(); }));
  REQUIRE(eventually([&] { return heartbeat().value_or(0) > *attached_beat + 0.05; }));
  std::string lines;
  for (int number = 0; number < 1000; ++number) lines += "record-" + std::to_string(number) + "\n";
  produce(dir, ring, lines, "lines");
  REQUIRE(consumer.wait() == 0);
  const JsonValue summary = JsonValue::parse(consumer.out());
  CHECK(summary["records"].as_uint() == 1000);
  const double waiting = summary["waiting_seconds"].as_double();
  CHECK(waiting > 0);
  CHECK(waiting <= summary["seconds"].as_double());
  const double active = summary["seconds"].as_double() - waiting - summary["idle_seconds"].as_double();
  constexpr double kRounding = 3e-6;
  CHECK(summary["records_per_s"].as_double() >= 1000 / (active + kRounding));
  CHECK(consumer.err().find(" for the first: ") != std::string::npos);
}

TEST_CASE("summary: the rate leaves out the idle wait at the end - a loss of unknown size in records says so") {
  WorkDir dir;
  const std::string ring = dir / "summary.ring";
  create_ring(dir, ring);
  std::string lines;
  for (int number = 0; number < 1000; ++number) lines += "record-" + std::to_string(number) + "\n";
  produce(dir, ring, lines, "lines");
  const Result read = run(kConsumer, {ring, "--from", "earliest", "--discard", "--until-idle", "300ms", "--json"},
                          dir.path());
  REQUIRE(read.exit_code == 0);
  const JsonValue summary = JsonValue::parse(read.out);
  CHECK(summary["records"].as_uint() == 1000);
  CHECK(summary["idle_seconds"].as_double() >= 0.3);
  CHECK(summary["seconds"].as_double() >= summary["idle_seconds"].as_double());
  // The JSON gives seconds to the microsecond, and reading 1000 records takes some tens of them:
  // the rate is 1000 over the active time within what that rounding allows.
  const double active = summary["seconds"].as_double() - summary["idle_seconds"].as_double();
  constexpr double kRounding = 2e-6;
  CHECK(summary["records_per_s"].as_double() >= 1000 / (active + kRounding));
  if (active > kRounding) CHECK(summary["records_per_s"].as_double() <= 1000 / (active - kRounding));
  CHECK(read.err.find(", then idle ") != std::string::npos);

  // A named consumer lapped before it saw any record of the producer knows the bytes it lost, not
  // how many records they held.
  const std::string small = dir / "small.ring";
  REQUIRE(run(kProducer, {small, "--create", "--size", "64K", "--policy", "overwrite", "--count", "0"}, dir.path())
              .exit_code == 0);
  for (const char* name : {"late", "checker"}) {
    REQUIRE(run(kConsumer, {small, "--name", name, "--from", "earliest", "--count", "0", "--quiet"}, dir.path())
                .exit_code == 0);
  }
  REQUIRE(run(kProducer, {small, "--synthetic", "--record-size", "1K", "--count", "200", "--quiet"}, dir.path())
              .exit_code == 0);
  const Result lapped = run(kConsumer, {small, "--name", "late", "--discard", "--until-idle", "100ms", "--json"},
                            dir.path());
  INFO(lapped.err);
  REQUIRE(lapped.exit_code == 0);
  const JsonValue loss = JsonValue::parse(lapped.out);
  CHECK(loss["lost_bytes"].as_uint() > 0);
  CHECK(loss["lost_records"].is_null());
  CHECK(lapped.err.find("of records overwritten before they were read (how many is unknown)") != std::string::npos);
  CHECK(lapped.err.find("lost 0 records") == std::string::npos);
  // --verify says the same, not "0 records lost".
  const Result verified = run(kConsumer, {small, "--name", "checker", "--verify", "--discard", "--until-idle", "100ms",
                                          "--json"},
                              dir.path());
  INFO(verified.err);
  REQUIRE(verified.exit_code == 0);
  const JsonValue verify = JsonValue::parse(verified.out)["verify"];
  CHECK(verify["lost_bytes"].as_uint() > 0);
  CHECK(verify["lost_records"].is_null());
  CHECK(verified.err.find("an unknown number of records (") != std::string::npos);
  CHECK(verified.err.find(" 0 records (") == std::string::npos);
}
