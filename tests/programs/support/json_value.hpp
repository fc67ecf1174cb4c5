// Just enough JSON for the tests to read what the programs print: objects, arrays, strings
// (with the escapes the programs write), numbers, booleans and null.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::program_test {

class JsonValue {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  // Throws std::runtime_error on anything that is not one complete JSON value.
  static JsonValue parse(std::string_view text);

  Kind kind() const noexcept { return kind_; }
  bool is_null() const noexcept { return kind_ == Kind::null; }
  bool as_bool() const;
  double as_double() const;
  std::uint64_t as_uint() const;  // exact, from the number's digits
  const std::string& as_string() const;
  const std::vector<JsonValue>& items() const;
  // The member `key` of an object; throws when absent.
  const JsonValue& operator[](const std::string& key) const;

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool boolean_ = false;
  std::string text_;  // a string's value, or a number's digits
  std::vector<JsonValue> items_;
  std::map<std::string, JsonValue> members_;
};

}  // namespace ringfile::program_test
