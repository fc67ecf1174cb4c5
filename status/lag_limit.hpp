// --max-lag: which consumers lag more than allowed, each as a one-line error.
#pragma once

#include <string>
#include <vector>

#include "ring_report.hpp"
#include "status_settings.hpp"

namespace ringfile::status {

// One line per consumer over the limit (empty: all within it). A lag in seconds that cannot be
// known (no record to date it) is not judged against a duration; a consumer past its expiry
// is not judged at all.
std::vector<std::string> lag_violations(const RingReport& report, const LagLimit& limit);

}  // namespace ringfile::status
