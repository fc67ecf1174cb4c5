#include <vector>

#include "support/named_entries.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

std::span<const WriterKind> writer_kinds() {
  // Built on first use, from main: after every kind file's constants are initialised.
  static const std::vector<WriterKind> all{kNaiveKind,           kPwriteKind,          kRingfileZeroRangeKind,
                                           kRingfileZeroRangeWriteKind, kRingfilePunchHoleKind,
                                           kRingfilePrefetchKind, kRingfileNoneKind,    kRingfileAutoKind,
                                           kRingfileAutoWriteKind};
  return all;
}

const WriterKind* find_writer_kind(std::string_view name) { return find_by_name(writer_kinds(), name); }

}  // namespace ringfile::bench::wrap
