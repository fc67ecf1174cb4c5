// The roles a test can start as a real child process (see child_process.hpp). Each prints
// one-line reports on stdout that the parent parses.
#include "support/children.hpp"

#include <doctest/doctest.h>

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "paging.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/error.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/system/process_io.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/child_process.hpp"
#include "support/rings.hpp"

namespace ringfile::test {

std::size_t synthetic_size(std::uint64_t producer_id, std::uint64_t sequence, std::size_t min_bytes,
                           std::size_t max_bytes) {
  std::uint64_t mixed = (producer_id + 1) * 0x9E3779B97F4A7C15ull ^ sequence * 0xBF58476D1CE4E5B9ull;
  mixed ^= mixed >> 29;
  return min_bytes + static_cast<std::size_t>(mixed % (max_bytes - min_bytes + 1));
}

std::map<std::string, std::string> parse_fields(const std::string& line) {
  std::map<std::string, std::string> fields;
  std::istringstream words(line);
  std::string word;
  while (words >> word) {
    const auto equals = word.find('=');
    if (equals != std::string::npos) fields[word.substr(0, equals)] = word.substr(equals + 1);
  }
  return fields;
}

ConsumerReport read_report(ChildProcess& child) {
  ConsumerReport report;
  while (auto line = child.read_line()) {
    INFO("consumer said: " << *line);
    REQUIRE(line->rfind("error", 0) != 0);
    auto fields = parse_fields(*line);
    if (line->rfind("producer ", 0) == 0) report.producers[std::stoull(fields["id"])] = fields;
    if (line->rfind("result ", 0) == 0) report.result = fields;
  }
  return report;
}

ClaimStatus write_synthetic(Producer& producer, std::uint64_t producer_id, std::uint64_t sequence, std::size_t size) {
  for (;;) {
    ClaimResult claim = producer.claim(size, std::chrono::seconds(60));
    if (!claim) return claim.status;
    fill_synthetic(claim.buffer, producer_id, sequence);
    const ClaimStatus committed = producer.commit();
    if (committed != ClaimStatus::claim_lost) return committed;
  }
}

std::unique_ptr<ChildProcess> attached_consumer_child(const std::filesystem::path& path, const std::string& name) {
  auto child = std::make_unique<ChildProcess>(
      "consume", std::vector<std::string>{path.string(), name, "committed", "1", "0:0:1000000"});
  const auto line = child->read_line();
  if (!line || line->rfind("attached", 0) != 0) throw std::runtime_error("the consumer child did not attach");
  return child;
}

std::string expect_line(ChildProcess& child, const std::string& prefix) {
  const auto line = child.read_line();
  INFO("child said: " << line.value_or("(nothing)"));
  REQUIRE(line.has_value());
  REQUIRE(line->rfind(prefix, 0) == 0);
  return *line;
}

void wait_until_halted(ChildProcess& child) {
  for (;;) {
    const auto line = child.read_line();
    REQUIRE(line.has_value());
    INFO("consumer said: " << *line);
    REQUIRE(line->rfind("error", 0) != 0);
    if (*line == "halted") return;
  }
}

void say(const std::string& line) {
  std::cout << line << std::endl;  // flushed: the parent is waiting for it
}

std::uint64_t disk_read_bytes() { return system::own_process_io().value_or(system::ProcessIo{}).read_bytes; }

std::string ring_state(const Ring& ring) {
  std::string text = "head=" + std::to_string(ring.head_position());
  for (const ProducerInfo& producer : ring.producers()) {
    text += " producer" + std::to_string(producer.slot) + "(pid=" + std::to_string(producer.pid) +
            " alive=" + std::to_string(producer.alive) + " claim=" + std::to_string(producer.open_claim_start) + ".." +
            std::to_string(producer.open_claim_end) + " for_consumer=" +
            (producer.waiting_for_consumer ? std::to_string(*producer.waiting_for_consumer) : "-") +
            " for_claim=" + std::to_string(producer.waiting_for_open_claim) +
            " for_preparation=" + std::to_string(producer.waiting_for_preparation) + ")";
  }
  for (const ConsumerInfo& consumer : ring.consumers()) {
    text += " consumer" + std::to_string(consumer.slot) + "(" + consumer.name + " pid=" + std::to_string(consumer.pid) +
            " alive=" + std::to_string(consumer.alive) + " detached=" + std::to_string(consumer.detached) +
            " holds=" + std::to_string(consumer.holds_back) + " expired=" + std::to_string(consumer.expired) +
            " following=" + std::to_string(consumer.following) + " cursor=" + std::to_string(consumer.cursor) + ")";
  }
  return text;
}

namespace {

// Writes record `sequence` of producer `id` (write_synthetic), saying what failed, if anything.
bool write_synthetic_record(Producer& producer, std::uint64_t id, std::uint64_t sequence, std::size_t size) {
  const ClaimStatus written = write_synthetic(producer, id, sequence, size);
  if (written != ClaimStatus::ok) say(std::string("error write ") + to_string(written) + " " + ring_state(producer.ring()));
  return written == ClaimStatus::ok;
}

bool stdin_has_news() {
  pollfd input{STDIN_FILENO, POLLIN, 0};
  return ::poll(&input, 1, 0) > 0;
}

// Writes records [first, first + count) of producer `id` with write_batch, saying what failed, if
// anything. A group padded over because this process stalled (claim_lost) published nothing from
// the record it reports on: those are written again.
bool write_synthetic_batch(Producer& producer, std::uint64_t id, std::uint64_t first, std::uint64_t count,
                           std::size_t min_bytes, std::size_t max_bytes) {
  std::vector<std::vector<std::byte>> records;
  for (std::uint64_t sequence = first; sequence < first + count; ++sequence) {
    records.push_back(synthetic_payload(id, sequence, synthetic_size(id, sequence, min_bytes, max_bytes)));
  }
  std::vector<std::span<const std::byte>> payloads(records.begin(), records.end());
  std::span<const std::span<const std::byte>> rest = payloads;
  while (!rest.empty()) {
    const BatchResult written = producer.write_batch(rest, std::chrono::seconds(60));
    rest = rest.subspan(written.records);
    if (written.status == ClaimStatus::ok || written.status == ClaimStatus::claim_lost) continue;
    say(std::string("error write_batch ") + to_string(written.status) + " " + ring_state(producer.ring()));
    return false;
  }
  return true;
}

// produce PATH PRODUCER_ID COUNT MIN_BYTES MAX_BYTES [BATCH]
// COUNT 0: until a line (or the end) arrives on stdin, wherever it is killed before that.
// BATCH above 1: records go BATCH at a time through write_batch.
int produce(int argc, char** argv) {
  Ring ring = Ring::open(argv[0]);
  Producer producer(ring);
  const std::uint64_t id = std::stoull(argv[1]);
  const std::uint64_t count = std::stoull(argv[2]);
  const std::size_t min_bytes = std::stoul(argv[3]);
  const std::size_t max_bytes = std::stoul(argv[4]);
  const std::uint64_t batch = argc > 5 ? std::stoull(argv[5]) : 1;
  std::uint64_t sequence = 0;
  while (count == 0 || sequence < count) {
    if (count == 0 && sequence % 32 < batch && stdin_has_news()) break;
    if (batch > 1) {
      const std::uint64_t group = count == 0 ? batch : std::min(batch, count - sequence);
      if (!write_synthetic_batch(producer, id, sequence, group, min_bytes, max_bytes)) return 1;
      sequence += group;
      continue;
    }
    if (!write_synthetic_record(producer, id, sequence, synthetic_size(id, sequence, min_bytes, max_bytes))) return 1;
    sequence += 1;
  }
  say("done records=" + std::to_string(sequence));
  return 0;
}

// produce-until-killed PATH PRODUCER_ID MIN_BYTES MAX_BYTES
// Writes synthetic records as fast as it can, reporting "started" after the first, until killed.
int produce_until_killed(char** argv) {
  Ring ring = Ring::open(argv[0]);
  Producer producer(ring);
  const std::uint64_t id = std::stoull(argv[1]);
  const std::size_t min_bytes = std::stoul(argv[2]);
  const std::size_t max_bytes = std::stoul(argv[3]);
  for (std::uint64_t sequence = 0;; ++sequence) {
    if (!write_synthetic_record(producer, id, sequence, synthetic_size(id, sequence, min_bytes, max_bytes))) return 1;
    if (sequence == 0) say("started");
  }
}

// consume PATH NAME(- = anonymous) START(earliest|latest|committed) STOP_AFTER(0 = never)
//         ID:FIRST:COUNT...
// Reads until every listed producer has delivered sequences up to COUNT - 1. With STOP_AFTER,
// reports its progress after that many records and then waits to be killed.
int consume(int argc, char** argv) {
  Ring ring = Ring::open(argv[0]);
  ConsumerOptions options;
  if (std::strcmp(argv[1], "-") != 0) options.name = argv[1];
  const std::string start = argv[2];
  options.start = start == "earliest" ? StartFrom::earliest
                  : start == "latest" ? StartFrom::latest
                                      : StartFrom::committed;
  const std::uint64_t stop_after = std::stoull(argv[3]);
  std::map<std::uint64_t, std::uint64_t> expected_end;
  for (int index = 4; index < argc; ++index) {
    std::uint64_t id = 0, first = 0, count = 0;
    if (std::sscanf(argv[index], "%lu:%lu:%lu", &id, &first, &count) != 3) return 2;
    if (first < count) expected_end[id] = count;
  }
  Consumer consumer = Consumer::attach(ring, options);
  say("attached position=" + std::to_string(consumer.position()));

  SyntheticVerifier verifier;
  const auto finished = [&] {
    for (const auto& [id, end] : expected_end) {
      const auto found = verifier.producers().find(id);
      if (found == verifier.producers().end() || found->second.next_sequence < end) return false;
    }
    return true;
  };
  const auto handler = [&](const Record& record) { verifier.check(record.payload); };
  while (!finished()) {
    std::size_t batch = 256;
    if (stop_after != 0) batch = std::min<std::uint64_t>(batch, stop_after - verifier.totals().records);
    const PollResult polled = consumer.poll(handler, batch);
    if (polled.status != PollStatus::ok) {
      say("error " + polled.error_message);
      return 1;
    }
    if (stop_after != 0 && verifier.totals().records >= stop_after) {
      // Every record handed out so far is committed (auto-commit at the end of each poll).
      for (const auto& [id, progress] : verifier.producers()) {
        say("progress id=" + std::to_string(id) + " next=" + std::to_string(progress.next_sequence));
      }
      say("halted");
      std::string ignored;
      while (std::getline(std::cin, ignored)) {
      }
      return 0;
    }
    if (polled.records == 0) consumer.wait(std::chrono::milliseconds(100));
  }
  const auto& totals = verifier.totals();
  for (const auto& [id, progress] : verifier.producers()) {
    say("producer id=" + std::to_string(id) + " first=" + std::to_string(progress.first_sequence) +
        " next=" + std::to_string(progress.next_sequence) + " records=" + std::to_string(progress.records));
  }
  say("result records=" + std::to_string(totals.records) + " missing=" + std::to_string(totals.missing) +
      " duplicates=" + std::to_string(totals.duplicates) + " corrupt=" + std::to_string(totals.corrupt) +
      " lost_bytes=" + std::to_string(consumer.stats().lost_bytes) +
      " checksum_failures=" + std::to_string(consumer.stats().checksum_failures));
  return 0;
}

// claim-hang PATH PRODUCER_ID RECORDS_BEFORE
// Writes some records, claims one more and reports "claimed"; then commits when told "commit"
// (reporting the status) or is killed with its claim open.
int claim_hang(char** argv) {
  Ring ring = Ring::open(argv[0]);
  Producer producer(ring);
  const std::uint64_t id = std::stoull(argv[1]);
  const std::uint64_t before = std::stoull(argv[2]);
  for (std::uint64_t sequence = 0; sequence < before; ++sequence) {
    ClaimResult claim = producer.claim(100, std::chrono::seconds(60));
    if (!claim) return 1;
    fill_synthetic(claim.buffer, id, sequence);
    producer.commit();
  }
  ClaimResult claim = producer.claim(100, std::chrono::seconds(60));
  if (!claim) return 1;
  fill_synthetic(claim.buffer, id, before);
  say("claimed");
  std::string command;
  while (std::getline(std::cin, command)) {
    if (command == "commit") {
      say(std::string("commit ") + to_string(producer.commit()));
      return 0;
    }
  }
  return 0;
}

// wrap-laps PATH LAPS RECORD_BYTES VIEW_BYTES
// Waits for "go" (so that the parent can put it in a memory box), then writes LAPS laps of
// synthetic records with a consumer following in the same process, and reports per lap the
// bytes written, the bytes read from disk and the most the ring had in memory.
int wrap_laps(char** argv) {
  const std::uint64_t laps = std::stoull(argv[1]);
  const std::size_t record_bytes = std::stoul(argv[2]);
  // Everything after "go", inside the box: the engine's budget comes from the box's memory.
  std::string command;
  if (!std::getline(std::cin, command) || command != "go") return 2;
  Ring ring = Ring::open(argv[0], {.view_bytes = std::stoull(argv[3])});
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  const std::uint64_t bound = detail::Pager(detail::file_of(ring)).resident_bound_bytes();
  SyntheticVerifier verifier;
  std::uint64_t sequence = 0;
  const std::uint64_t capacity = ring.info().capacity_bytes;
  for (std::uint64_t lap = 1; lap <= laps; ++lap) {
    const std::uint64_t reads_before = disk_read_bytes();
    const std::uint64_t head_before = ring.head_position();
    std::uint64_t most_resident = 0;
    while (ring.head_position() < lap * capacity) {
      // Zero copy, filled in place in the mapping (records below 64 KiB): the path whose page
      // faults would read the old lap back (larger claims and write() go into the file with
      // pwrite, which does not).
      if (write_synthetic(producer, 1, sequence++, record_bytes) != ClaimStatus::ok) return 1;
      consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); });
      const std::uint64_t records_per_sample = std::max<std::uint64_t>(1, (5 << 20) / record_bytes);
      if (sequence % records_per_sample == 0) most_resident = std::max(most_resident, ring.residency().resident_bytes);
    }
    say("lap " + std::to_string(lap) + " written=" + std::to_string(ring.head_position() - head_before) +
        " read=" + std::to_string(disk_read_bytes() - reads_before) + " resident=" + std::to_string(most_resident) +
        " bound=" + std::to_string(bound));
  }
  consumer.poll([&](const Record& delivered) { verifier.check(delivered.payload); });
  const auto& totals = verifier.totals();
  say("result records=" + std::to_string(totals.records) + " expected=" + std::to_string(sequence) +
      " missing=" + std::to_string(totals.missing) + " corrupt=" + std::to_string(totals.corrupt));
  return 0;
}

}  // namespace

int run_child_role(int argc, char** argv) {
  const std::string role = argv[0];
  try {
    if (role == "produce" && (argc == 6 || argc == 7)) return produce(argc - 1, argv + 1);
    if (role == "consume" && argc >= 5) return consume(argc - 1, argv + 1);
    if (role == "produce-until-killed" && argc == 5) return produce_until_killed(argv + 1);
    if (role == "claim-hang" && argc == 4) return claim_hang(argv + 1);
    if (role == "wrap-laps" && argc == 5) return wrap_laps(argv + 1);
    if (int exit_code = 0; run_fault_role(role, argc, argv, &exit_code)) return exit_code;
    if (int exit_code = 0; run_reader_role(role, argc, argv, &exit_code)) return exit_code;
  } catch (const Error& error) {
    say(std::string("error ") + error.what());
    return 1;
  }
  std::cerr << "unknown child role or arguments: " << role << "\n";
  return 2;
}

}  // namespace ringfile::test
