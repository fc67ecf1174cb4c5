#include "text_table.hpp"

#include <algorithm>

namespace ringfile::status {

std::size_t display_width(const std::string& text) {
  // Count every byte that does not continue a UTF-8 sequence.
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; }));
}

TextTable::TextTable(std::vector<std::pair<std::string, Align>> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<Cell> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::render(const std::string& indent, bool color) const {
  std::vector<std::size_t> widths;
  for (const auto& [title, align] : columns_) widths.push_back(display_width(title));
  for (const auto& row : rows_) {
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], display_width(row[column].text));
    }
  }
  const auto line = [&](const std::vector<Cell>& cells) {
    std::string text = indent;
    for (std::size_t column = 0; column < cells.size(); ++column) {
      const std::string padding(widths[column] - display_width(cells[column].text), ' ');
      const bool colored = color && cells[column].color != nullptr;
      const bool last = column + 1 == cells.size();
      if (columns_[column].second == Align::right) text += padding;
      if (colored) text += cells[column].color;
      text += cells[column].text;
      if (colored) text += "\x1b[0m";
      if (columns_[column].second == Align::left && !last) text += padding;
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::vector<Cell> header;
  for (const auto& [title, align] : columns_) header.push_back({title, color ? "\x1b[1m" : nullptr});
  std::string rendered = line(header);
  for (const auto& row : rows_) rendered += line(row);
  return rendered;
}

}  // namespace ringfile::status
