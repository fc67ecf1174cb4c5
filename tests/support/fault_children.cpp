// The child roles of the fault suite (tests/lib/fault_test.cpp): a named consumer that reports
// each batch before committing it, and consumers that attach, detach and die over and over. Each reports one line per event on stdout.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>

#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/error.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/children.hpp"

namespace ringfile::test {
namespace {

// A reader that finds nothing to read for seconds while records wait: what is at its position,
// on stderr (the test's own output), for a failure to show why.
void report_stall(const Ring& ring, const Consumer& consumer) {
  const auto& file = detail::file_of(ring);
  const std::uint64_t position = consumer.position();
  if (ring.head_position() <= position) return;
  std::uint64_t words[5] = {};
  const auto offset = static_cast<off_t>(file.info().data_offset + file.geometry().offset_of(position));
  const bool read = ::pread(file.fd(), words, sizeof words, offset) == static_cast<ssize_t>(sizeof words);
  std::string text = "named-reader " + std::to_string(::getpid()) + " stalled at " + std::to_string(position) +
                     ", frame words";
  for (const std::uint64_t word : words) text += " " + (read ? std::to_string(word) : std::string("?"));
  std::fprintf(stderr, "%s; %s\n", text.c_str(), ring_state(ring).c_str());
}

// named-reader PATH NAME BATCH MARKER_ID
// Resumes the named consumer and reads in batches of at most BATCH records, committing by hand:
// after each batch it first reports, per producer, the first and the last sequence it has seen
// since it attached ("batch ID:FIRST:LAST ..."), then commits. So whatever it reported before a
// SIGKILL is at most one batch ahead of its saved cursor. Stops once MARKER_ID's record came.
int named_reader(char** argv) {
  Ring ring = Ring::open(argv[0]);
  Consumer consumer = Consumer::attach(ring, {.name = argv[1], .auto_commit = false});
  const std::size_t batch = std::stoul(argv[2]);
  const std::uint64_t marker = std::stoull(argv[3]);
  say("attached position=" + std::to_string(consumer.position()) + " head=" + std::to_string(ring.head_position()) +
      " lost_bytes=" + std::to_string(consumer.stats().lost_bytes));
  SyntheticVerifier verifier;
  std::uint64_t empty_polls = 0;
  for (;;) {
    const PollResult polled = consumer.poll([&](const Record& record) { verifier.check(record.payload); }, batch);
    if (polled.status != PollStatus::ok) {
      const auto& header = detail::file_of(ring).header();
      say("error " + polled.error_message + " (head " + std::to_string(ring.head_position()) + ", limit " +
          std::to_string(header.producer_limit.value) + ", cursor " +
          std::to_string(header.consumers[consumer.slot()].cursor) + ")");
      return 1;
    }
    const auto& totals = verifier.totals();
    if (totals.corrupt != 0 || totals.duplicates != 0 || totals.missing != 0) {
      say("error records=" + std::to_string(totals.records) + " missing=" + std::to_string(totals.missing) +
          " duplicates=" + std::to_string(totals.duplicates) + " corrupt=" + std::to_string(totals.corrupt));
      return 1;
    }
    if (polled.records == 0) {
      if (++empty_polls == 50) report_stall(ring, consumer);  // about 5 s with records to read
      consumer.wait(std::chrono::milliseconds(100));
      continue;
    }
    empty_polls = 0;
    std::string line = "batch";
    for (const auto& [id, progress] : verifier.producers()) {
      line += " " + std::to_string(id) + ":" + std::to_string(progress.first_sequence) + ":" +
              std::to_string(progress.next_sequence - 1);
    }
    say(line);
    consumer.commit();
    if (verifier.producers().count(marker) != 0) {
      say("finished lost_records=" + std::to_string(consumer.stats().lost_records) +
          " lost_bytes=" + std::to_string(consumer.stats().lost_bytes));
      return 0;
    }
  }
}

// The slot this consumer attached to must stay its own until it detaches: nobody else may be
// handed a slot whose owner is alive.
bool still_owner(const Ring& ring, const Consumer& consumer) {
  const auto& slot = detail::file_of(ring).header().consumers[consumer.slot()];
  return std::atomic_ref<const std::uint64_t>(slot.owner_pid).load(std::memory_order_acquire) ==
             static_cast<std::uint64_t>(::getpid()) &&
         std::atomic_ref<const std::uint32_t>(slot.state).load(std::memory_order_acquire) ==
             static_cast<std::uint32_t>(format::ConsumerState::active);
}

// churn PATH INDEX CYCLES SEED
// CYCLES times: attaches (anonymous, or as one of two names of its own), reads a little,
// checking after each poll that its slot is still its own, then detaches; now and then it dies
// instead (_exit, no detach), leaving its slot to be reclaimed. Reports "cycle N" and "died".
int churn(char** argv) {
  Ring ring = Ring::open(argv[0]);
  const std::string index = argv[1];
  const std::uint64_t cycles = std::stoull(argv[2]);
  std::mt19937_64 random(std::stoull(argv[3]));
  for (std::uint64_t cycle = 0; cycle < cycles; ++cycle) {
    SyntheticVerifier verifier;  // per attach: each reads its own stretch of the ring
    ConsumerOptions options;
    const auto kind = random() % 3;
    if (kind != 0) options.name = "churn-" + index + "-" + std::to_string(kind);
    Consumer consumer = Consumer::attach(ring, options);
    const std::uint64_t attach_position = consumer.position();
    for (std::uint64_t poll = random() % 8; poll > 0; --poll) {
      consumer.poll([&](const Record& record) { verifier.check(record.payload); });
      if (!still_owner(ring, consumer)) {
        say("error slot " + std::to_string(consumer.slot()) + " was handed to another process while attached");
        return 1;
      }
    }
    // A named consumer that was detached, or dead, past its grace period held nobody back: it may
    // have lost records, as long as it says so.
    const auto& totals = verifier.totals();
    const bool loss_reported = consumer.stats().lost_bytes > 0 || consumer.stats().lost_records > 0;
    if (totals.corrupt != 0 || totals.duplicates != 0 || (totals.missing != 0 && !loss_reported)) {
      say("error missing=" + std::to_string(totals.missing) + " duplicates=" + std::to_string(totals.duplicates) +
          " corrupt=" + std::to_string(totals.corrupt) + " name=" + options.name + " lost_bytes=" +
          std::to_string(consumer.stats().lost_bytes) + " attach_position=" + std::to_string(attach_position) +
          " position=" + std::to_string(consumer.position()) + " head=" + std::to_string(ring.head_position()));
      return 1;
    }
    if (random() % 8 == 0) {
      say("died slot=" + std::to_string(consumer.slot()));
      std::fflush(nullptr);
      ::_exit(0);  // no detach: the slot is left to whoever finds its owner dead
    }
    consumer.detach();
    say("cycle " + std::to_string(cycle));
  }
  say("done");
  return 0;
}

}  // namespace

bool run_fault_role(const std::string& role, int argc, char** argv, int* exit_code) {
  if (role == "named-reader" && argc == 5) {
    *exit_code = named_reader(argv + 1);
  } else if (role == "churn" && argc == 5) {
    *exit_code = churn(argv + 1);
  } else {
    return false;
  }
  return true;
}

}  // namespace ringfile::test
