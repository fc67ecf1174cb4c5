// The human view of a ring: a summary line, a consumer table with a lag bar, a producer table.
#pragma once

#include <string>

#include "ring_report.hpp"

namespace ringfile::status {

struct TableStyle {
  bool color = false;    // ANSI colours for states and headers
  bool unicode = false;  // block characters for the lag bar (a UTF-8 terminal)
};

// A UTF-8 terminal on stdout gets block characters; everything else plain ASCII.
TableStyle table_style_for_stdout(bool color);

std::string render_table(const RingReport& report, const TableStyle& style);
// Explains the estimated columns; printed once under the tables.
std::string table_footnote();

}  // namespace ringfile::status
