// The footprint benchmark's table: one column per ring size, one row per figure.
#pragma once

#include <vector>

#include "footprint/size_run.hpp"

namespace ringfile::bench::footprint {

// Prints the table and the failures on stdout. Returns 1 if a size failed, else 0.
int print_report(const FootprintOptions& options, const std::vector<SizeResult>& results);

}  // namespace ringfile::bench::footprint
