// --max-lag: which consumers lag more than allowed, each as a one-line error.
#pragma once

#include <string>
#include <vector>

#include "ring_report.hpp"
#include "status_settings.hpp"

namespace ringfile::status {

// One line per consumer over the limit (empty: all within it). A lag in seconds that cannot be
// known (no record to date it) is over any duration where the record is gone (more than a ring
// behind, or dropped by the paging engine ahead of the producers), and not judged against one
// where it is an open claim; a consumer past its expiry is not judged at all.
std::vector<std::string> lag_violations(const RingReport& report, const LagLimit& limit);

// Whether the paging engine has already invalidated the consumer's next record.
bool dropped_ahead_of_producers(const RingReport& report, const ConsumerReport& consumer) noexcept;

}  // namespace ringfile::status
