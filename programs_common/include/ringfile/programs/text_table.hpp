// Columns aligned for a terminal, with optional ANSI colour per cell (added after padding, so
// that escape codes do not count towards the width). Given a width (a terminal's), columns marked
// as optional are dropped, least wanted first, until every line fits.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ringfile::programs {

class TextTable {
 public:
  enum class Align { left, right };
  struct Column {
    std::string title;
    Align align = Align::left;
    // 0: always shown. Otherwise dropped when the table does not fit, the highest number first.
    int drop_order = 0;
  };
  struct Cell {
    std::string text;
    const char* color = nullptr;  // an ANSI SGR sequence, e.g. "\x1b[31m"; null: none
  };

  explicit TextTable(std::vector<Column> columns);
  void add_row(std::vector<Cell> cells);
  // The header and rows, each line starting with `indent`; with `max_width` (0: unlimited),
  // dropping optional columns until the lines fit in it.
  std::string render(const std::string& indent, bool color, std::size_t max_width = 0) const;

 private:
  std::vector<Column> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// Display width of UTF-8 text on a terminal: two columns for East Asian wide characters and
// emoji, none for combining marks, one for anything else (a byte that is not UTF-8 too).
std::size_t display_width(const std::string& text);

// `text` cut to at most `width` display columns per line, ANSI escape sequences kept whole (and a
// reset added after a cut inside colour), so that no line wraps on a terminal that wide.
std::string fit_lines(const std::string& text, std::size_t width);

// Columns of the terminal on `fd`, or of $COLUMNS; 0 when neither says.
std::size_t terminal_columns(int fd);

}  // namespace ringfile::programs
