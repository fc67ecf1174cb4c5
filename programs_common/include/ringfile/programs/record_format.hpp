// How records look outside the ring, in a producer's input and a consumer's output.
#pragma once

#include <string>
#include <vector>

namespace ringfile::programs {

enum class RecordFormat {
  lines,   // one record per line; the newline is not part of the record
  raw,     // records back to back with nothing between (producer: chunks of --record-size)
  frames,  // each record preceded by its length, 4 bytes little-endian; binary-safe
};

// The words of --format, in the order of RecordFormat (for add_choice_option).
inline std::vector<std::string> record_format_words() { return {"lines", "raw", "frames"}; }

}  // namespace ringfile::programs
