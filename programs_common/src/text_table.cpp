#include "ringfile/programs/text_table.hpp"

#include <sys/ioctl.h>

#include <algorithm>
#include <cstdlib>
#include <span>
#include <string_view>

#include "ringfile/format/utf8.hpp"

namespace ringfile::programs {

namespace {

struct CodePointRange {
  char32_t first;
  char32_t last;
};

// Characters a terminal shows two columns wide: East Asian wide and fullwidth forms, and emoji
// (Unicode's East_Asian_Width W and F, in the ranges that matter for names and paths).
constexpr CodePointRange kWide[] = {
    {0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},
    {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE30, 0xFE4F},   {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF}, {0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};
// Characters shown on the one before them: combining marks, the zero-width joiner, variation
// selectors.
constexpr CodePointRange kZeroWidth[] = {
    {0x0300, 0x036F}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200D}, {0x20D0, 0x20FF}, {0xFE00, 0xFE0F},
    {0xFE20, 0xFE2F},
};

bool in_ranges(char32_t point, std::span<const CodePointRange> ranges) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const CodePointRange& range) { return point >= range.first && point <= range.last; });
}

// The character at the start of `text` (not empty): its bytes, and the columns a terminal shows
// it in. A byte that is not UTF-8 is one byte of one column, whatever it shows as.
struct ShownCharacter {
  std::size_t bytes = 1;
  std::size_t columns = 1;
};
ShownCharacter first_character(std::string_view text) {
  const format::Utf8Character character = format::decode_utf8(text);
  if (character.length == 0) return {};
  const std::size_t columns =
      in_ranges(character.code_point, kZeroWidth) ? 0 : in_ranges(character.code_point, kWide) ? 2 : 1;
  return {character.length, columns};
}

}  // namespace

std::size_t display_width(const std::string& text) {
  std::size_t columns = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    const ShownCharacter character = first_character(rest);
    columns += character.columns;
    rest.remove_prefix(character.bytes);
  }
  return columns;
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
    // A character, whole or not at all: a wide one that would straddle the edge is cut.
    const ShownCharacter character = first_character(std::string_view(text).substr(index));
    if (column + character.columns > width) cut = true;
    if (!cut) {
      fitted.append(text, index, character.bytes);
      column += character.columns;
    }
    index += character.bytes - 1;
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
