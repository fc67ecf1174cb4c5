// SIGINT while a producer waits for space: the record in hand is still committed once space
// frees, and nothing after it; a second SIGINT drops it and says so.
#include <doctest/doctest.h>

#include <signal.h>

#include <cstdio>
#include <string>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

constexpr int kLines = 5000;

// Lines of exactly 100 bytes (newline included): 5000 of them are far more than a 256 KiB ring.
std::string fixed_lines(int count) {
  std::string text;
  for (int number = 1; number <= count; ++number) {
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "line-%05d-", number % 100000);
    text += prefix + std::string(88, '0') + "\n";
  }
  return text;
}

// A ring whose only consumer is stopped, and a producer blocked on it with a line in hand.
struct BlockedProducer {
  WorkDir dir;
  std::string ring = dir / "blocked.ring";
  std::string input = fixed_lines(kLines);
  std::optional<Program> consumer;
  std::optional<Program> producer;
  std::uint64_t committed_when_blocked = 0;

  BlockedProducer() {
    REQUIRE(run(kProducer, {ring, "--create", "--size", "256K", "--count", "0"}, dir.path()).exit_code == 0);
    write_file(dir / "in.txt", input);
    consumer.emplace(kConsumer, std::vector<std::string>{ring, "--name", "slow", "--output", dir / "out.txt"}, dir.path());
    REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 1; }));
    consumer->stop_outside_table_lock(ring);
    producer.emplace(kProducer, std::vector<std::string>{ring, "--json"}, dir.path(), Launch{.stdin_file = dir / "in.txt"});
    // Full: no room for one more record before the stopped consumer's cursor at 0, so the
    // producer has read its next line and waits with it. Waiting, it has committed every record
    // it reserved (the head can count one reserved and not yet committed); two samples agree.
    REQUIRE(eventually([&] {
      const StatusDocument first = status_of(ring, dir.path());
      const StatusDocument now = status_of(ring, dir.path());
      if (now.producers.empty() || first.producers.empty() || !now.producers[0].waiting) return false;
      committed_when_blocked = now.producers[0].committed_records;
      if (committed_when_blocked == 0 || first.producers[0].committed_records != committed_when_blocked) return false;
      const std::uint64_t record_stride = now.head / committed_when_blocked;
      return now.head + record_stride > now.capacity;
    }));
    producer->signal(SIGINT);
    REQUIRE(eventually([&] { return producer->err().find("waiting for space to write the last record read") != std::string::npos; }));
  }
};

}  // namespace

TEST_CASE("SIGINT while a producer waits for space: the record in hand is committed once space frees") {
  BlockedProducer blocked;
  blocked.consumer->signal(SIGCONT);
  INFO(blocked.producer->err());
  REQUIRE(blocked.producer->wait() == 0);
  const std::uint64_t written = JsonValue::parse(blocked.producer->out())["records"].as_uint();
  CHECK(written == blocked.committed_when_blocked + 1);  // the one in hand, and no more

  const std::uint64_t head = status_of(blocked.ring, blocked.dir.path()).head;
  REQUIRE(eventually([&] { return status_of(blocked.ring, blocked.dir.path()).consumer("slow").position == head; }));
  blocked.consumer->signal(SIGTERM);
  REQUIRE(blocked.consumer->wait() == 0);
  CHECK(read_file(blocked.dir / "out.txt") == blocked.input.substr(0, written * 100));
}

TEST_CASE("a second SIGINT drops the record a producer waits to write, and says so") {
  BlockedProducer blocked;
  blocked.producer->signal(SIGINT);
  INFO(blocked.producer->err());
  CHECK(blocked.producer->wait() == 1);
  CHECK(blocked.producer->err().find("the last record read was not written") != std::string::npos);
  blocked.consumer->signal(SIGCONT);
}
