#include "ringfile/programs/json_writer.hpp"

#include <cmath>
#include <cstdio>

#include "ringfile/format/utf8.hpp"

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
  const auto append_code = [&](unsigned code) {
    char escaped[16];
    std::snprintf(escaped, sizeof escaped, "\\u%04x", code);
    text_ += escaped;
  };
  while (!text.empty()) {
    const char character = text.front();
    const auto byte = static_cast<unsigned char>(character);
    if (byte >= 0x80) {
      // UTF-8 passes through, but for what acts on a terminal or on a line when the document is
      // shown (C1 controls, line separators, bidirectional controls: all below U+10000, one
      // \u escape each). A byte that starts no character becomes U+FFFD: raw, it would make the
      // document invalid JSON, and JSON has no way to carry a byte as it is.
      const format::Utf8Character decoded = format::decode_utf8(text);
      if (decoded.length == 0) {
        append_code(0xFFFD);
        text.remove_prefix(1);
      } else {
        if (format::acts_rather_than_shows(decoded.code_point)) {
          append_code(static_cast<unsigned>(decoded.code_point));
        } else {
          text_.append(text.data(), decoded.length);
        }
        text.remove_prefix(decoded.length);
      }
      continue;
    }
    switch (character) {
      case '"': text_ += "\\\""; break;
      case '\\': text_ += "\\\\"; break;
      case '\n': text_ += "\\n"; break;
      case '\r': text_ += "\\r"; break;
      case '\t': text_ += "\\t"; break;
      default:
        if (byte < 0x20 || byte == 0x7F) {
          append_code(byte);
        } else {
          text_ += character;
        }
    }
    text.remove_prefix(1);
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
