#include "consumer_names.hpp"

#include <cstdio>

#include "ringfile/format/consumer_slot.hpp"
#include "ringfile/format/utf8.hpp"

namespace ringfile::detail {
namespace {

format::Utf8Character character_at(std::string_view name, std::size_t index) noexcept {
  return format::decode_utf8(name.substr(index));
}

// Whether `character` may stand in a name: UTF-8, neither a space nor a control character (C1
// ones too: U+009B starts an escape sequence on many terminals as ESC [ does).
bool allowed(format::Utf8Character character) noexcept {
  return character.length != 0 && character.code_point != ' ' && !format::is_control(character.code_point);
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
  const auto control = [](unsigned code, const char* format) {
    return "holds a control character (" + hex_code(code, format) + "); use letters, digits, '-', '_' or '.'";
  };
  for (std::size_t index = 0; index < name.size();) {
    const format::Utf8Character character = character_at(name, index);
    if (allowed(character)) {
      index += character.length;
      continue;
    }
    if (character.code_point == ' ') return "holds a space; use letters, digits, '-', '_' or '.'";
    if (character.length == 1) return control(character.code_point, "0x%02x");
    if (character.length != 0) return control(character.code_point, "U+%04X");  // C1
    return "is not valid UTF-8; write it in UTF-8 (or use ASCII letters and digits)";
  }
  return {};
}

std::string printable_consumer_name(std::string_view name) {
  if (consumer_name_problem(name).empty()) return std::string(name);
  std::string shown;
  for (std::size_t index = 0; index < name.size();) {
    const format::Utf8Character character = character_at(name, index);
    if (allowed(character) && name[index] != '\\') {
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
