// The human view of a ring: a summary line, a consumer table with a lag bar, a producer table.
#pragma once

#include <string>

#include "ring_report.hpp"

namespace ringfile::status {

struct TableStyle {
  bool color = false;    // ANSI colours for states and headers
  bool unicode = false;  // block characters for the lag bar (a UTF-8 terminal)
  // The terminal's columns: tables drop their least needed columns to fit, and longer lines
  // are cut, so that nothing wraps (a wrapped line breaks the in-place redraw). 0: no limit.
  std::size_t width = 0;
};

// A UTF-8 terminal on stdout gets block characters and its width; everything else plain ASCII
// without a limit.
TableStyle table_style_for_stdout(bool color);

std::string render_table(const RingReport& report, const TableStyle& style);
// Explains the estimated columns; printed once under the tables (cut to `width` when not 0).
std::string table_footnote(std::size_t width = 0);

}  // namespace ringfile::status
