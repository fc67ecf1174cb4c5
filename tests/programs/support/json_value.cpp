#include "support/json_value.hpp"

#include <cstdint>
#include <cstdlib>
#include <stdexcept>

namespace ringfile::program_test {

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : text_(text) {}

  JsonValue document() {
    JsonValue value = parse_value();
    skip_space();
    if (at_ != text_.size()) fail("text after the value");
    return value;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw std::runtime_error("bad JSON at offset " + std::to_string(at_) + ": " + problem);
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\t' || text_[at_] == '\r')) ++at_;
  }
  char peek() {
    skip_space();
    if (at_ >= text_.size()) fail("unexpected end");
    return text_[at_];
  }
  void expect(char wanted) {
    if (peek() != wanted) fail(std::string("expected '") + wanted + "'");
    ++at_;
  }
  bool consume_word(std::string_view word) {
    if (text_.substr(at_, word.size()) != word) return false;
    at_ += word.size();
    return true;
  }

  JsonValue parse_value() {
    JsonValue value;
    const char first = peek();
    if (first == '{') {
      value.kind_ = JsonValue::Kind::object;
      ++at_;
      if (peek() == '}') return ++at_, value;
      for (;;) {
        const std::string key = parse_string();
        expect(':');
        value.members_[key] = parse_value();
        if (peek() == '}') return ++at_, value;
        expect(',');
      }
    }
    if (first == '[') {
      value.kind_ = JsonValue::Kind::array;
      ++at_;
      if (peek() == ']') return ++at_, value;
      for (;;) {
        value.items_.push_back(parse_value());
        if (peek() == ']') return ++at_, value;
        expect(',');
      }
    }
    if (first == '"') {
      value.kind_ = JsonValue::Kind::string;
      value.text_ = parse_string();
      return value;
    }
    if (consume_word("true") || consume_word("false")) {
      value.kind_ = JsonValue::Kind::boolean;
      value.boolean_ = text_[at_ - 1] == 'e' && text_[at_ - 2] == 'u';
      return value;
    }
    if (consume_word("null")) return value;
    const std::size_t start = at_;
    while (at_ < text_.size() && std::string_view("+-0123456789.eE").find(text_[at_]) != std::string_view::npos) ++at_;
    if (at_ == start) fail("not a value");
    value.kind_ = JsonValue::Kind::number;
    value.text_ = std::string(text_.substr(start, at_ - start));
    return value;
  }

  static void append_utf8(std::string& out, std::uint32_t point) {
    if (point < 0x80) {
      out += static_cast<char>(point);
    } else if (point < 0x800) {
      out += static_cast<char>(0xC0 | point >> 6);
      out += static_cast<char>(0x80 | (point & 0x3F));
    } else {
      out += static_cast<char>(0xE0 | point >> 12);
      out += static_cast<char>(0x80 | (point >> 6 & 0x3F));
      out += static_cast<char>(0x80 | (point & 0x3F));
    }
  }

  std::string parse_string() {
    expect('"');
    std::string result;
    while (at_ < text_.size() && text_[at_] != '"') {
      char character = text_[at_++];
      if (character == '\\') {
        if (at_ >= text_.size()) fail("unfinished escape");
        const char escaped = text_[at_++];
        switch (escaped) {
          case 'n': character = '\n'; break;
          case 'r': character = '\r'; break;
          case 't': character = '\t'; break;
          case 'u': {
            // A code point below U+10000 (the programs write no surrogate pairs), kept as UTF-8.
            const auto point =
                static_cast<std::uint32_t>(std::strtol(std::string(text_.substr(at_, 4)).c_str(), nullptr, 16));
            at_ += 4;
            append_utf8(result, point);
            continue;
          }
          default: character = escaped;
        }
      }
      result += character;
    }
    expect('"');
    return result;
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

JsonValue JsonValue::parse(std::string_view text) { return JsonParser(text).document(); }

bool JsonValue::as_bool() const {
  if (kind_ != Kind::boolean) throw std::runtime_error("JSON value is not a boolean");
  return boolean_;
}

double JsonValue::as_double() const {
  if (kind_ != Kind::number) throw std::runtime_error("JSON value is not a number");
  return std::strtod(text_.c_str(), nullptr);
}

std::uint64_t JsonValue::as_uint() const {
  if (kind_ != Kind::number || text_.find_first_not_of("0123456789") != std::string::npos) {
    throw std::runtime_error("JSON value '" + text_ + "' is not an unsigned integer");
  }
  return std::strtoull(text_.c_str(), nullptr, 10);
}

const std::string& JsonValue::as_string() const {
  if (kind_ != Kind::string) throw std::runtime_error("JSON value is not a string");
  return text_;
}

const std::vector<JsonValue>& JsonValue::items() const {
  if (kind_ != Kind::array) throw std::runtime_error("JSON value is not an array");
  return items_;
}

const JsonValue& JsonValue::operator[](const std::string& key) const {
  if (kind_ != Kind::object) throw std::runtime_error("JSON value is not an object");
  const auto found = members_.find(key);
  if (found == members_.end()) throw std::runtime_error("JSON object has no member '" + key + "'");
  return found->second;
}

}  // namespace ringfile::program_test
