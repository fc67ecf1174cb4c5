// Child roles for readers_box_test: a producer, a slow follower and a replaying consumer, each
// put in a memory box by the parent before it is told "go" (so that the memory budget each one's
// engine derives is the box's).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/children.hpp"

namespace ringfile::test {
namespace {

std::uint64_t major_faults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<std::uint64_t>(usage.ru_majflt);
}

bool wait_for(const std::string& word) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line == word) return true;
  }
  return false;
}

// box-produce PATH COUNT RECORD_BYTES
// After "go": COUNT synthetic records of producer 1, filled in place (claim, fill, commit).
int box_produce(char** argv) {
  if (!wait_for("go")) return 2;
  Producer producer(Ring::open(argv[0]));
  const std::uint64_t count = std::stoull(argv[1]);
  const std::size_t record_bytes = std::stoul(argv[2]);
  for (std::uint64_t sequence = 0; sequence < count; ++sequence) {
    const ClaimStatus written = write_synthetic(producer, 1, sequence, record_bytes);
    if (written != ClaimStatus::ok) {
      say(std::string("error write ") + to_string(written));
      return 1;
    }
  }
  say("done records=" + std::to_string(count) + " waited_ns=" + std::to_string(producer.stats().backpressure_ns) +
      " read=" + std::to_string(disk_read_bytes()));
  return 0;
}

// Whether the consumer in `slot` is marked following, as every producer sees it.
bool marked_following(const Ring& ring, std::uint32_t slot) {
  for (const ConsumerInfo& info : ring.consumers()) {
    if (info.slot == slot) return info.following;
  }
  return false;
}

// box-follow PATH COUNT WORK PAUSE_AFTER
// After "go": attaches at the head (holding producers back) and says "attached"; reads and
// verifies COUNT records, regenerating each one WORK more times (work slower than producing).
// With PAUSE_AFTER > 0 it stops after that many records, says "paused position=P" and waits for
// "resume". Reports how often it was found not following and the most it lagged.
int box_follow(char** argv) {
  if (!wait_for("go")) return 2;
  Ring ring = Ring::open(argv[0]);
  const std::uint64_t count = std::stoull(argv[1]);
  const int work = std::stoi(argv[2]);
  const std::uint64_t pause_after = std::stoull(argv[3]);
  Consumer consumer = Consumer::attach(ring, {});
  say("attached position=" + std::to_string(consumer.position()));
  SyntheticVerifier verifier;
  std::vector<std::byte> scratch;
  std::uint64_t not_following = 0;
  std::uint64_t most_lag = 0;
  bool paused = pause_after == 0;
  const auto handle = [&](const Record& record) {
    verifier.check(record.payload);
    scratch.resize(record.payload.size());
    for (int pass = 0; pass < work; ++pass) fill_synthetic(scratch, 1, record.producer_sequence + pass);
  };
  while (verifier.totals().records < count) {
    std::size_t batch = 64;
    if (!paused) batch = std::min<std::uint64_t>(batch, pause_after - verifier.totals().records);
    const PollResult polled = consumer.poll(handle, batch);
    if (polled.status != PollStatus::ok) {
      say("error " + polled.error_message);
      return 1;
    }
    most_lag = std::max(most_lag, ring.head_position() - consumer.position());
    if (polled.records > 0 && !marked_following(ring, consumer.slot())) ++not_following;
    if (!paused && verifier.totals().records >= pause_after) {
      say("paused position=" + std::to_string(consumer.position()));
      if (!wait_for("resume")) return 2;
      paused = true;
      continue;
    }
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(100));
  }
  const auto& totals = verifier.totals();
  say("done records=" + std::to_string(totals.records) + " missing=" + std::to_string(totals.missing) +
      " corrupt=" + std::to_string(totals.corrupt) + " not_following=" + std::to_string(not_following) +
      " most_lag=" + std::to_string(most_lag) + " read=" + std::to_string(disk_read_bytes()));
  return 0;
}

// box-replay PATH
// After "go": reads every record from the oldest to the head (no producer runs any more).
int box_replay(char** argv) {
  if (!wait_for("go")) return 2;
  Ring ring = Ring::open(argv[0]);
  Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest});
  const std::uint64_t start = consumer.position();
  const std::uint64_t head = ring.head_position();
  SyntheticVerifier verifier;
  while (consumer.position() < head) {
    const PollResult polled = consumer.poll([&](const Record& record) { verifier.check(record.payload); });
    if (polled.status != PollStatus::ok || polled.records == 0) {
      say("error stopped at " + std::to_string(consumer.position()) + " " + polled.error_message);
      return 1;
    }
  }
  const auto& totals = verifier.totals();
  say("done records=" + std::to_string(totals.records) + " missing=" + std::to_string(totals.missing) +
      " corrupt=" + std::to_string(totals.corrupt) + " replayed=" + std::to_string(head - start) +
      " read=" + std::to_string(disk_read_bytes()) + " major_faults=" + std::to_string(major_faults()));
  return 0;
}

}  // namespace

bool run_reader_role(const std::string& role, int argc, char** argv, int* exit_code) {
  if (role == "box-produce" && argc == 4) {
    *exit_code = box_produce(argv + 1);
  } else if (role == "box-follow" && argc == 5) {
    *exit_code = box_follow(argv + 1);
  } else if (role == "box-replay" && argc == 2) {
    *exit_code = box_replay(argv + 1);
  } else {
    return false;
  }
  return true;
}

}  // namespace ringfile::test
