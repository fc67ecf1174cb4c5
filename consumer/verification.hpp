// --verify: what the synthetic records showed, and whether that passes. Losses to lapping are
// expected where the consumer may be lapped (overwrite policy, or --no-hold); anywhere else a
// missing record fails, and a corrupt or duplicated one always does.
#pragma once

#include <cstdint>
#include <string>

#include "ringfile/programs/json_writer.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::consumer {

struct VerificationOutcome {
  SyntheticVerifier::Totals totals;
  std::size_t producers = 0;
  std::uint64_t lost_records = 0;  // skipped because producers lapped this consumer (this run)
  std::uint64_t lost_bytes = 0;
  bool loss_allowed = false;       // the consumer could be lapped: overwrite policy or --no-hold

  bool ok() const noexcept;
  // One line: "verify OK: ..." or the reasons it failed.
  std::string describe() const;
  // The "verify" object: {ok, records, producers, gaps, missing, duplicates, corrupt, lost_records, lost_bytes}.
  void write_json(programs::JsonWriter& json) const;
};

}  // namespace ringfile::consumer
