// The rows of the benchmarks' text tables: the first cell left-aligned, the others right-aligned,
// each in a fixed width.
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <vector>

namespace ringfile::bench {

// One row and its newline; `widths` has one entry per cell (cells beyond it are dropped).
inline std::string fixed_width_row(const std::vector<std::string>& cells, std::span<const int> widths) {
  std::string text;
  for (std::size_t column = 0; column < cells.size() && column < widths.size(); ++column) {
    char padded[64];
    std::snprintf(padded, sizeof(padded), column == 0 ? "%-*s" : " %*s", widths[column], cells[column].c_str());
    text += padded;
  }
  return text + "\n";
}

}  // namespace ringfile::bench
