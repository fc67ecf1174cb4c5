// What the text and the JSON report share: number formatting, names and lookups over the results.
#pragma once

#include <string>
#include <vector>

#include "wrap/kind_run.hpp"

namespace ringfile::bench::wrap {

std::string format(const char* pattern, double value);

// "ringfile-auto", or "ringfile-auto@tmpfs" for the tmpfs leg.
std::string kind_label(const KindResult& kind);

const KindResult* find_result(const std::vector<KindResult>& kinds, const std::string& name,
                              Leg leg);

// Record bytes of every lap over the laps' summed durations (the final fsync left out).
double all_laps_gigabytes_per_second(const KindResult& kind);

}  // namespace ringfile::bench::wrap
