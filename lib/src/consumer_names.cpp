#include "consumer_names.hpp"

#include <cstdio>

#include "ringfile/format/consumer_slot.hpp"

namespace ringfile::detail {
namespace {

// The length of the UTF-8 sequence that starts with `lead` (0: not a lead byte).
std::size_t utf8_sequence_length(unsigned char lead) noexcept {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

bool is_control(unsigned char byte) noexcept { return byte < 0x20 || byte == 0x7f; }

// A C1 control (U+0080 to U+009F) at `index`: valid UTF-8, but U+009B starts an escape sequence
// on many terminals as ESC [ does.
bool is_c1_control_at(std::string_view name, std::size_t index) noexcept {
  return static_cast<unsigned char>(name[index]) == 0xC2 && index + 1 < name.size() &&
         static_cast<unsigned char>(name[index + 1]) <= 0x9F;
}

// The length of the valid character at `index` (0: none starts there: a control byte, a space,
// or bytes that are not UTF-8).
std::size_t valid_character_at(std::string_view name, std::size_t index) noexcept {
  const auto byte = static_cast<unsigned char>(name[index]);
  if (byte == ' ' || is_control(byte) || is_c1_control_at(name, index)) return 0;
  const std::size_t length = utf8_sequence_length(byte);
  if (length == 0 || index + length > name.size()) return 0;
  for (std::size_t next = 1; next < length; ++next) {
    if ((static_cast<unsigned char>(name[index + next]) & 0xC0) != 0x80) return 0;
  }
  return length;
}

std::string hex_code(unsigned char byte, const char* format) {
  char code[8];
  std::snprintf(code, sizeof code, format, byte);
  return code;
}

}  // namespace

std::string consumer_name_problem(std::string_view name) {
  if (name.size() >= format::kConsumerNameBytes) {
    return "is longer than " + std::to_string(format::kConsumerNameBytes - 1) + " bytes; choose a shorter one";
  }
  for (std::size_t index = 0; index < name.size();) {
    const std::size_t length = valid_character_at(name, index);
    if (length != 0) {
      index += length;
      continue;
    }
    const auto byte = static_cast<unsigned char>(name[index]);
    if (byte == ' ') return "holds a space; use letters, digits, '-', '_' or '.'";
    if (is_control(byte)) {
      return "holds a control character (" + hex_code(byte, "0x%02x") + "); use letters, digits, '-', '_' or '.'";
    }
    if (is_c1_control_at(name, index)) {
      return "holds a control character (" + hex_code(static_cast<unsigned char>(name[index + 1]), "U+%04X") +
             "); use letters, digits, '-', '_' or '.'";
    }
    return "is not valid UTF-8; write it in UTF-8 (or use ASCII letters and digits)";
  }
  return {};
}

std::string printable_consumer_name(std::string_view name) {
  if (consumer_name_problem(name).empty()) return std::string(name);
  std::string shown;
  for (std::size_t index = 0; index < name.size();) {
    const std::size_t length = valid_character_at(name, index);
    if (length != 0 && name[index] != '\\') {
      shown.append(name, index, length);
      index += length;
      continue;
    }
    shown += name[index] == '\\' ? std::string("\\\\") : hex_code(static_cast<unsigned char>(name[index]), "\\x%02x");
    index += 1;
  }
  return shown;
}

}  // namespace ringfile::detail
