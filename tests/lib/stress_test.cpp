// Many producer and consumer processes on a small ring with hundreds of wraps; every record is
// checked (per-producer sequence and payload derived from it, plus the ring's CRC32C).
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>

#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

std::uint64_t scale() {
  const char* long_run = std::getenv("RINGFILE_LONG_TESTS");
  return long_run != nullptr && *long_run == '1' ? 10 : 1;
}

// 4 producer processes (two of them writing 16 records at a time with write_batch), 3 consumer
// processes (named, anonymous, and a named one killed halfway and restarted) on a small ring with
// hundreds of wraps.
void run_stress(PagingStrategy paging) {
  TempDir dir;
  const std::uint64_t capacity = 256 * 1024;
  const auto path = (dir / "ring").string();
  CreateOptions options = small_ring(capacity, WriterPolicy::block, 8192);
  options.paging = paging;
  Ring ring = Ring::create(path, options);
  const std::uint64_t producers = 4;
  const std::uint64_t per_producer = 12000 * scale();
  const std::size_t min_bytes = 24;
  const std::size_t max_bytes = 4000;
  std::vector<std::string> expect_all;
  for (std::uint64_t id = 0; id < producers; ++id) {
    expect_all.push_back(std::to_string(id) + ":0:" + std::to_string(per_producer));
  }
  const auto consumer_args = [&](const std::string& name, const std::string& start, std::uint64_t stop_after,
                                 const std::vector<std::string>& expect) {
    std::vector<std::string> args{path, name, start, std::to_string(stop_after)};
    args.insert(args.end(), expect.begin(), expect.end());
    return args;
  };

  // Consumers attach before any record is written, so each must see every record.
  ChildProcess named("consume", consumer_args("durable", "committed", 0, expect_all));
  ChildProcess anonymous("consume", consumer_args("-", "earliest", 0, expect_all));
  const std::uint64_t halfway = producers * per_producer / 2;
  auto restartable = std::make_unique<ChildProcess>("consume", consumer_args("phoenix", "committed", halfway, expect_all));
  for (ChildProcess* child : {&named, &anonymous, restartable.get()}) {
    const auto line = child->read_line();
    REQUIRE(line.has_value());
    REQUIRE(line->rfind("attached", 0) == 0);
  }

  std::vector<std::unique_ptr<ChildProcess>> writers;
  for (std::uint64_t id = 0; id < producers; ++id) {
    writers.push_back(std::make_unique<ChildProcess>(
        "produce", std::vector<std::string>{path, std::to_string(id), std::to_string(per_producer),
                                            std::to_string(min_bytes), std::to_string(max_bytes),
                                            id % 2 == 0 ? "1" : "16"}));  // half of them by write_batch
  }

  // Kill the restartable consumer once it has read (and committed) half of all records, while
  // the producers are still writing; restart it under the same name.
  std::map<std::uint64_t, std::uint64_t> resume_from;
  for (;;) {
    const auto line = restartable->read_line();
    REQUIRE(line.has_value());
    INFO("restartable said: " << *line);
    REQUIRE(line->rfind("error", 0) != 0);
    if (*line == "halted") break;
    auto fields = parse_fields(*line);
    resume_from[std::stoull(fields["id"])] = std::stoull(fields["next"]);
  }
  restartable->kill_hard();
  std::vector<std::string> expect_rest;
  for (std::uint64_t id = 0; id < producers; ++id) {
    expect_rest.push_back(std::to_string(id) + ":" + std::to_string(resume_from[id]) + ":" +
                          std::to_string(per_producer));
  }
  ChildProcess restarted("consume", consumer_args("phoenix", "committed", 0, expect_rest));
  REQUIRE(restarted.read_line().has_value());

  for (auto& writer : writers) {
    const auto line = writer->read_line();
    INFO("producer said: " << line.value_or("(nothing)"));
    // REQUIRE: the consumers below wait for every record, so after a producer that died they
    // would wait for ever.
    REQUIRE(line.value_or("").rfind("done", 0) == 0);
    CHECK(writer->wait() == 0);
  }

  for (ChildProcess* child : {&named, &anonymous}) {
    const ConsumerReport report = read_report(*child);
    CHECK(child->wait() == 0);
    CHECK(report.result.at("records") == std::to_string(producers * per_producer));
    CHECK(report.result.at("missing") == "0");
    CHECK(report.result.at("duplicates") == "0");
    CHECK(report.result.at("corrupt") == "0");
    CHECK(report.result.at("checksum_failures") == "0");
    CHECK(report.result.at("lost_bytes") == "0");
    for (std::uint64_t id = 0; id < producers; ++id) {
      CHECK(report.producers.at(id).at("first") == "0");
      CHECK(report.producers.at(id).at("next") == std::to_string(per_producer));
    }
  }

  // The restarted consumer continues exactly where its predecessor committed.
  const ConsumerReport rest = read_report(restarted);
  CHECK(restarted.wait() == 0);
  std::uint64_t remaining = 0;
  for (std::uint64_t id = 0; id < producers; ++id) {
    const std::uint64_t from = resume_from[id];
    remaining += per_producer - from;
    if (from == per_producer) continue;
    CHECK(rest.producers.at(id).at("first") == std::to_string(from));
    CHECK(rest.producers.at(id).at("next") == std::to_string(per_producer));
  }
  INFO("restarted consumer: lost_bytes=" << rest.result.at("lost_bytes"));
  CHECK(rest.result.at("records") == std::to_string(remaining));
  CHECK(rest.result.at("missing") == "0");
  CHECK(rest.result.at("duplicates") == "0");
  CHECK(rest.result.at("corrupt") == "0");

  const double wraps = static_cast<double>(ring.head_position()) / static_cast<double>(capacity);
  MESSAGE("stress: " << producers * per_producer << " records, " << wraps << " wraps, 1 consumer killed at "
                     << halfway << " records and restarted");
  CHECK(wraps > 100);
}

}  // namespace

TEST_CASE("stress: 4 producer processes, 3 consumer processes, one killed and restarted, hundreds of wraps") {
  run_stress(PagingStrategy::none);
}

TEST_CASE("stress with the paging engine invalidating ahead by zero-range") {
  TempDir probe;
  Ring ring = Ring::create(probe / "probe", [] {
    CreateOptions options = small_ring(256 * 1024);
    options.paging = PagingStrategy::zero_range;
    return options;
  }());
  if (ring.info().paging != PagingStrategy::zero_range) {
    MESSAGE("skipped: the filesystem under " << probe.path() << " has no FALLOC_FL_ZERO_RANGE");
    return;
  }
  run_stress(PagingStrategy::zero_range);
}

TEST_CASE("stress with the paging engine invalidating ahead by punch-hole") {
  run_stress(PagingStrategy::punch_hole);
}
