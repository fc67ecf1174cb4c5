#include "consumer_names.hpp"

#include <cstdio>

#include "ringfile/format/consumer_slot.hpp"
#include "ringfile/format/utf8.hpp"

namespace ringfile::detail {
namespace {

format::Utf8Character character_at(std::string_view name, std::size_t index) noexcept {
  return format::decode_utf8(name.substr(index));
}

// Whether `character` may stand in a name: UTF-8, neither a space, a character that shows as
// nothing or as another, nor one that acts on the terminal or the line rather than shows (C1
// controls too: U+009B starts an escape sequence on many terminals as ESC [ does; U+202E turns the
// rest of a status row backwards). Not a backslash either: it starts every escape that
// printable_consumer_name writes for a name that breaks these rules, which a name that is allowed
// must never look like.
bool allowed(format::Utf8Character character) noexcept {
  const char32_t point = character.code_point;
  return character.length != 0 && point != ' ' && point != '\\' && !format::acts_rather_than_shows(point) &&
         !format::is_blank_or_invisible(point);
}

std::string hex_code(unsigned code, const char* format) {
  char text[12];
  std::snprintf(text, sizeof text, format, code);
  return text;
}

}  // namespace

std::string consumer_name_problem(std::string_view name) {
  if (name.size() >= format::kConsumerNameBytes) {
    return "is longer than " + std::to_string(format::kConsumerNameBytes - 1) + " bytes; choose a shorter one";
  }
  constexpr const char* kUse = "; use letters, digits, '-', '_' or '.'";
  for (std::size_t index = 0; index < name.size();) {
    const format::Utf8Character character = character_at(name, index);
    if (allowed(character)) {
      index += character.length;
      continue;
    }
    const char32_t point = character.code_point;
    if (character.length == 0) return "is not valid UTF-8; write it in UTF-8 (or use ASCII letters and digits)";
    if (point == ' ') return std::string("holds a space") + kUse;
    if (point == '\\') return std::string("holds a backslash, with which names that cannot be shown are escaped") + kUse;
    const std::string code = character.length == 1 ? hex_code(point, "0x%02x") : hex_code(point, "U+%04X");
    if (format::is_control(point)) return "holds a control character (" + code + ")" + kUse;
    if (format::is_blank_or_invisible(point)) return "holds a space or an invisible character (" + code + ")" + kUse;
    return "holds a character that reorders or breaks the line it is shown on (" + code + ")" + kUse;
  }
  return {};
}

std::string printable_consumer_name(std::string_view name) {
  if (consumer_name_problem(name).empty()) return std::string(name);
  std::string shown;
  for (std::size_t index = 0; index < name.size();) {
    const format::Utf8Character character = character_at(name, index);
    if (allowed(character)) {
      shown.append(name, index, character.length);
      index += character.length;
      continue;
    }
    shown += name[index] == '\\' ? std::string("\\\\") : hex_code(static_cast<unsigned char>(name[index]), "\\x%02x");
    index += 1;
  }
  return shown;
}

}  // namespace ringfile::detail
