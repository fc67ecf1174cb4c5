// The work of ringfile-consumer once attached: poll, write out or verify, commit, wait; until a
// stop condition holds.
#pragma once

#include <chrono>
#include <cstdint>

#include "consumer_settings.hpp"
#include "record_sink.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::consumer {

struct ReadTotals {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double idle_seconds = 0;  // at the end, waiting for records that did not come (--until-idle)
  double waiting_seconds = 0;  // at the start, waiting for the first record
  bool reached_until = false;  // stopped before a record committed at --until or later
  std::uint64_t damaged_skipped = 0;  // damaged stretches passed with --skip-damaged
};

// Reads until --count, --duration, --until-idle or --until is met, or a stop signal arrives. Records go to
// `sink` and `verifier` when given. The cursor is committed as --commit-every says, only ever
// after the records before it were written out, and once more at the end.
// Throws RuntimeFailure on a corrupt record or an output failure.
// `totals` is filled as the loop goes, so that a caller catching its exception (or a fault
// handler) has what was counted up to there.
void read_records(const ConsumerSettings& settings, Consumer& consumer, RecordSink* sink,
                  SyntheticVerifier* verifier, ReadTotals& totals);

}  // namespace ringfile::consumer
