// Records as text, for people and tools that inspect a ring: one JSON object per line, a hex
// dump, or a template with fields in the manner of kcat -f.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "ringfile/consumer.hpp"

namespace ringfile::consumer {

// True when `bytes` is valid UTF-8 (no overlong forms, no surrogates, at most U+10FFFF).
bool valid_utf8(std::span<const std::byte> bytes) noexcept;
// Standard base64 with padding (RFC 4648).
void append_base64(std::string& out, std::span<const std::byte> bytes);
// The payload on one line: \n \r \t \\ escaped, other control bytes and bytes that are not
// UTF-8 as \xHH.
void append_escaped(std::string& out, std::span<const std::byte> bytes);

// {"position":..,"time":"2025-03-01T14:05:00.123456789Z","time_ns":..,"producer":..,"sequence":..,
//  "length":..,"payload":"..."} with "payload_base64" instead of "payload" when the payload is not
// valid UTF-8; and a newline.
void append_jsonl(std::string& out, const Record& record);

// "position 4096  time 2025-...Z  producer 0  sequence 12  length 37", then lines of
// "00000000  48 65 6c 6c 6f 20 77 6f  72 6c 64 0a 00 01 02 03  |Hello world.....|", then a blank line.
void append_hex_dump(std::string& out, const Record& record);

// A --show template, read once: %p position, %t time, %T nanoseconds, %P producer, %s sequence,
// %l length, %v payload, %e payload escaped, %% percent; \n \t \r \0 \\ in the text.
// @pre the template was checked (parse_consumer_settings does).
class ShowTemplate {
 public:
  explicit ShowTemplate(const std::string& text);
  void append(std::string& out, const Record& record) const;

 private:
  struct Piece {
    char field = 0;     // 0: literal text
    std::string text;
  };
  std::vector<Piece> pieces_;
};

}  // namespace ringfile::consumer
