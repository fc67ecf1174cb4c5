// How many records a consumer lost, as every program shows it.
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::programs {

// The records a loss took: nullopt (JSON null, "?" in a table) where bytes were lost before any
// record of their producer was seen, so that how many records is unknown; a count of 0 there
// would read as no loss at all.
inline std::optional<std::uint64_t> lost_record_count(std::uint64_t lost_records, std::uint64_t lost_bytes) noexcept {
  if (lost_records == 0 && lost_bytes > 0) return std::nullopt;
  return lost_records;
}

}  // namespace ringfile::programs
