#include "ringfile/programs/json_writer.hpp"

#include <cmath>
#include <cstdio>

namespace ringfile::programs {

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!scope_has_items_.empty()) {
    if (scope_has_items_.back()) text_ += ',';
    scope_has_items_.back() = true;
  }
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  text_ += '{';
  scope_has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_object() {
  text_ += '}';
  scope_has_items_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::begin_array() {
  separate();
  text_ += '[';
  scope_has_items_.push_back(false);
  return *this;
}

JsonWriter& JsonWriter::end_array() {
  text_ += ']';
  scope_has_items_.pop_back();
  return *this;
}

JsonWriter& JsonWriter::key(std::string_view name) {
  value(name);
  text_ += ':';
  after_key_ = true;
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  text_ += '"';
  for (const char character : text) {
    const auto byte = static_cast<unsigned char>(character);
    switch (character) {
      case '"': text_ += "\\\""; break;
      case '\\': text_ += "\\\\"; break;
      case '\n': text_ += "\\n"; break;
      case '\r': text_ += "\\r"; break;
      case '\t': text_ += "\\t"; break;
      default:
        if (byte < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", byte);
          text_ += escaped;
        } else {
          text_ += character;  // UTF-8 passes through
        }
    }
  }
  text_ += '"';
  return *this;
}

JsonWriter& JsonWriter::value(bool flag) {
  separate();
  text_ += flag ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(double number) {
  if (!std::isfinite(number)) return null();
  separate();
  char text[64];
  if (std::fabs(number) >= 1e15) {
    std::snprintf(text, sizeof text, "%.17g", number);
  } else {
    // Six decimals (microseconds, for seconds), without trailing zeros.
    std::snprintf(text, sizeof text, "%.6f", number);
    std::string_view trimmed(text);
    while (trimmed.back() == '0') trimmed.remove_suffix(1);
    if (trimmed.back() == '.') trimmed.remove_suffix(1);
    text_ += trimmed;
    return *this;
  }
  text_ += text;
  return *this;
}

JsonWriter& JsonWriter::null() {
  separate();
  text_ += "null";
  return *this;
}

}  // namespace ringfile::programs
