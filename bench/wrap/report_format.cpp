#include "wrap/report_format.hpp"

#include <cstdio>

#include "support/byte_size.hpp"

namespace ringfile::bench::wrap {

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

std::string kind_label(const KindResult& kind) {
  return kind.leg == Leg::disk ? kind.kind : kind.kind + "@" + leg_name(kind.leg);
}

const KindResult* find_result(const std::vector<KindResult>& kinds, const std::string& name,
                              Leg leg) {
  for (const KindResult& kind : kinds) {
    if (kind.kind == name && kind.leg == leg) return &kind;
  }
  return nullptr;
}

double all_laps_gigabytes_per_second(const KindResult& kind) {
  double seconds = 0;
  for (const LapResult& lap : kind.laps) seconds += lap.seconds;
  return seconds > 0 ? static_cast<double>(kind.total_bytes) / kBytesPerGB / seconds : 0;
}

}  // namespace ringfile::bench::wrap
