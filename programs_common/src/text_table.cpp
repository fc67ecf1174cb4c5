#include "ringfile/programs/text_table.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cstdlib>

namespace ringfile::programs {

std::size_t display_width(const std::string& text) {
  // Count every byte that does not continue a UTF-8 sequence.
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](char byte) { return (static_cast<unsigned char>(byte) & 0xC0) != 0x80; }));
}

TextTable::TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

void TextTable::add_row(std::vector<Cell> cells) {
  cells.resize(columns_.size());
  rows_.push_back(std::move(cells));
}

std::string TextTable::render(const std::string& indent, bool color, std::size_t max_width) const {
  std::vector<std::size_t> widths;
  for (const Column& column : columns_) widths.push_back(display_width(column.title));
  for (const auto& row : rows_) {
    for (std::size_t index = 0; index < row.size(); ++index) {
      widths[index] = std::max(widths[index], display_width(row[index].text));
    }
  }
  std::vector<bool> shown(columns_.size(), true);
  const auto line_width = [&] {
    std::size_t total = display_width(indent);
    std::size_t count = 0;
    for (std::size_t index = 0; index < columns_.size(); ++index) {
      if (!shown[index]) continue;
      total += widths[index];
      ++count;
    }
    return total + (count > 0 ? 2 * (count - 1) : 0);
  };
  while (max_width > 0 && line_width() > max_width) {
    std::size_t drop = columns_.size();
    for (std::size_t index = 0; index < columns_.size(); ++index) {
      if (shown[index] && columns_[index].drop_order > 0 &&
          (drop == columns_.size() || columns_[index].drop_order > columns_[drop].drop_order)) {
        drop = index;
      }
    }
    if (drop == columns_.size()) break;  // only columns that are always shown are left
    shown[drop] = false;
  }
  std::size_t last_shown = 0;
  for (std::size_t index = 0; index < columns_.size(); ++index) {
    if (shown[index]) last_shown = index;
  }
  const auto line = [&](const std::vector<Cell>& cells) {
    std::string text = indent;
    bool first = true;
    for (std::size_t index = 0; index < cells.size(); ++index) {
      if (!shown[index]) continue;
      if (!first) text += "  ";
      first = false;
      const std::string padding(widths[index] - display_width(cells[index].text), ' ');
      const bool colored = color && cells[index].color != nullptr;
      if (columns_[index].align == Align::right) text += padding;
      if (colored) text += cells[index].color;
      text += cells[index].text;
      if (colored) text += "\x1b[0m";
      if (columns_[index].align == Align::left && index != last_shown) text += padding;
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    return text + "\n";
  };
  std::vector<Cell> header;
  for (const Column& column : columns_) header.push_back({column.title, color ? "\x1b[1m" : nullptr});
  std::string rendered = line(header);
  for (const auto& row : rows_) rendered += line(row);
  return max_width > 0 ? fit_lines(rendered, max_width) : rendered;
}

std::string fit_lines(const std::string& text, std::size_t width) {
  std::string fitted;
  std::size_t column = 0;
  bool in_color = false;
  bool cut = false;
  for (std::size_t index = 0; index < text.size(); ++index) {
    const char byte = text[index];
    if (byte == '\n') {
      if (cut && in_color) fitted += "\x1b[0m";
      fitted += byte;
      column = 0;
      cut = false;
      in_color = false;
      continue;
    }
    if (byte == '\x1b') {  // an escape sequence: copied whole, it takes no column
      std::size_t end = index + 1;
      if (end < text.size() && text[end] == '[') {
        ++end;
        while (end < text.size() && !(text[end] >= '@' && text[end] <= '~')) ++end;
      }
      const std::string sequence = text.substr(index, end + 1 - index);
      if (!cut) {
        fitted += sequence;
        if (sequence.back() == 'm') in_color = sequence != "\x1b[0m";
      }
      index = end;
      continue;
    }
    const bool continuation = (static_cast<unsigned char>(byte) & 0xC0) == 0x80;
    if (!continuation) {
      if (column >= width) cut = true;
      if (!cut) ++column;
    }
    if (!cut) fitted += byte;
  }
  return fitted;
}

std::size_t terminal_columns(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    const long value = std::strtol(columns, nullptr, 10);
    if (value > 0) return static_cast<std::size_t>(value);
  }
  return 0;
}

}  // namespace ringfile::programs
