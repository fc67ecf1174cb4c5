// --verify: what the synthetic records showed, and whether that passes. Losses to lapping are
// expected where the consumer may be lapped (overwrite policy, or --no-hold) and where a named
// consumer returns to a cursor lapped while it was away; anywhere else a missing record fails,
// and a corrupt or duplicated one always does.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ringfile/consumer.hpp"
#include "ringfile/programs/fault_signals.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/lost_records.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::consumer {

// What the records a run lost went to: "lapping", the damaged stretches it skipped
// (--skip-damaged), or both where producers may lap the consumer.
std::string loss_cause(bool may_be_lapped, std::uint64_t damaged_skipped);

using programs::lost_record_count;  // the records a loss took, null where unknown
// The same into a line a signal handler writes.
void write_lost_record_count(programs::SignalSafeLine& json, std::uint64_t lost_records,
                             std::uint64_t lost_bytes) noexcept;

struct VerificationOutcome {
  SyntheticVerifier::Totals totals;
  std::size_t producers = 0;
  std::uint64_t lost_records = 0;  // skipped: producers lapped this consumer, or damage (this run)
  std::uint64_t lost_bytes = 0;
  std::uint64_t damaged_skipped = 0;  // damaged stretches passed with --skip-damaged
  bool may_be_lapped = false;         // overwrite policy or --no-hold
  // may_be_lapped, --skip-damaged, or losses all found at attach: a named consumer's saved cursor
  // that producers lapped while it was away, holding nobody back.
  bool loss_allowed = false;

  bool ok() const noexcept;
  // One line: "verify OK: ..." or the reasons it failed.
  std::string describe() const;
  // The "verify" object: {ok, records, producers, gaps, missing, duplicates, corrupt, lost_records, lost_bytes,
  // damaged_skipped}.
  void write_json(programs::JsonWriter& json) const;
  // The same object with write(2)'s means only, for the summary a SIGBUS handler writes.
  void write_json(programs::SignalSafeLine& json) const noexcept;
};

// What --verify found so far. Counts and arithmetic only: the SIGBUS handler makes it too.
struct VerificationInputs {
  const SyntheticVerifier* verifier = nullptr;  // null without --verify
  ConsumerStats at_attach;        // carried from earlier runs (Consumer::carried_stats)
  ConsumerStats found_at_attach;  // and with the losses found at attach (Consumer::stats then)
  bool may_be_lapped = false;     // overwrite policy, or --no-hold
  bool skip_damaged = false;
};

// The outcome with the consumer's counts `now` and `damaged_skipped` stretches skipped so far.
// @pre inputs.verifier
VerificationOutcome verification_of(const VerificationInputs& inputs, const ConsumerStats& now,
                                    std::uint64_t damaged_skipped) noexcept;

}  // namespace ringfile::consumer
