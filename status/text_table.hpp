// Columns aligned for a terminal, with optional ANSI colour per cell (added after padding, so
// that escape codes do not count towards the width).
#pragma once

#include <string>
#include <vector>

namespace ringfile::status {

class TextTable {
 public:
  enum class Align { left, right };
  struct Cell {
    std::string text;
    const char* color = nullptr;  // an ANSI SGR sequence, e.g. "\x1b[31m"; null: none
  };

  explicit TextTable(std::vector<std::pair<std::string, Align>> columns);
  void add_row(std::vector<Cell> cells);
  // The header and rows, each line starting with `indent`.
  std::string render(const std::string& indent, bool color) const;

 private:
  std::vector<std::pair<std::string, Align>> columns_;
  std::vector<std::vector<Cell>> rows_;
};

// Display width of UTF-8 text: code points, which is right for the characters used here.
std::size_t display_width(const std::string& text);

}  // namespace ringfile::status
