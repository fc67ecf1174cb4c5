// A streaming JSON writer for the --json reports: enough for objects, arrays, numbers, strings
// and booleans, with the commas placed for the caller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::bench {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(double number);  // NaN and infinities become null
  JsonWriter& value(std::uint64_t number);
  JsonWriter& value(std::int64_t number);
  JsonWriter& value(int number) { return value(static_cast<std::int64_t>(number)); }
  JsonWriter& value(bool flag);
  JsonWriter& null();

  template <class Value>
  JsonWriter& field(std::string_view name, const Value& field_value) {
    key(name);
    return value(field_value);
  }

  const std::string& text() const noexcept { return text_; }

 private:
  void before_value();
  std::string text_;
  std::vector<bool> container_has_items_;  // one entry per open object or array
  bool after_key_ = false;
};

}  // namespace ringfile::bench
