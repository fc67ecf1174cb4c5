// A small streaming JSON writer for the programs' --json output (one document per line).
//
//   JsonWriter json;
//   json.begin_object().field("records", 12).key("verify").begin_object().field("ok", true)
//       .end_object().end_object();
//   puts(json.text().c_str());   // {"records":12,"verify":{"ok":true}}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ringfile::programs {

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view name);

  JsonWriter& value(std::string_view text);
  JsonWriter& value(const char* text) { return value(std::string_view(text)); }
  JsonWriter& value(const std::string& text) { return value(std::string_view(text)); }
  JsonWriter& value(bool flag);
  JsonWriter& value(double number);  // non-finite numbers become null
  JsonWriter& null();
  template <class Integer>
    requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
  JsonWriter& value(Integer number) {
    separate();
    text_ += std::to_string(number);
    return *this;
  }
  template <class T>
  JsonWriter& value(const std::optional<T>& maybe) {
    return maybe ? value(*maybe) : null();
  }

  template <class T>
  JsonWriter& field(std::string_view name, const T& field_value) {
    key(name);
    return value(field_value);
  }

  const std::string& text() const noexcept { return text_; }

 private:
  void separate();  // the comma before a value or key, unless first in its scope or after a key

  std::string text_;
  std::vector<bool> scope_has_items_;
  bool after_key_ = false;
};

}  // namespace ringfile::programs
