// Text as the format's readers take it: a consumer name in a slot (lib/src/consumer_names.cpp) and
// a payload shown as text by ringfile-consumer (consumer/record_formats.cpp). One UTF-8 character
// decoded at a time, the characters that a terminal acts on rather than shows, and those that show
// as nothing.
#pragma once

#include <cstddef>
#include <string_view>

namespace ringfile::format {

struct Utf8Character {
  std::size_t length = 0;  // 1 to 4; 0: no character starts here (not UTF-8, or cut short)
  char32_t code_point = 0;
};

// The character at the start of `bytes`, by RFC 3629: no overlong forms, no surrogates, nothing
// past U+10FFFF. @pre `bytes` is not empty.
constexpr Utf8Character decode_utf8(std::string_view bytes) noexcept {
  const auto byte = [&](std::size_t index) { return static_cast<unsigned char>(bytes[index]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {1, lead};
  std::size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;  // the allowed range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // at most U+10FFFF
  } else {
    return {};
  }
  if (bytes.size() < length || byte(1) < low || byte(1) > high) return {};
  char32_t point = (lead & (0x7F >> length)) << 6 | (byte(1) & 0x3F);
  for (std::size_t index = 2; index < length; ++index) {
    if ((byte(index) & 0xC0) != 0x80) return {};
    point = point << 6 | (byte(index) & 0x3F);
  }
  return {length, point};
}

// A control character: C0 (below U+0020), DEL (U+007F) or C1 (U+0080 to U+009F). Terminals act on
// them rather than show them; the C1 ones are valid UTF-8, and U+009B is a CSI to many terminals
// as ESC [ is, U+0085 a new line.
constexpr bool is_control(char32_t point) noexcept { return point < 0x20 || (point >= 0x7F && point <= 0x9F); }

// A character that acts on a terminal or on the line rather than shows: the controls above, the
// line and paragraph separators (U+2028, U+2029: a new line to some programs), and the marks,
// embeddings, overrides and isolates that reorder the text around them (bidirectional controls:
// U+202E shows the rest of a line backwards).
constexpr bool acts_rather_than_shows(char32_t point) noexcept {
  return is_control(point) || point == 0x061C || point == 0x200E || point == 0x200F ||
         (point >= 0x2028 && point <= 0x202E) || (point >= 0x2066 && point <= 0x2069);
}

// A space other than U+0020, or a character that shows nothing at all: the no-break and the
// typographic spaces, the zero-width ones, the byte-order mark, the combining grapheme joiner, the
// Hangul fillers, the variation selectors, the interlinear annotation marks and the tag
// characters. Two names that differ only in them look the same.
constexpr bool is_blank_or_invisible(char32_t point) noexcept {
  return point == 0x00A0 || point == 0x00AD || point == 0x034F || point == 0x115F || point == 0x1160 ||
         point == 0x1680 || point == 0x180E || (point >= 0x2000 && point <= 0x200D) || point == 0x202F ||
         point == 0x205F || (point >= 0x2060 && point <= 0x2064) || point == 0x3000 || point == 0x3164 ||
         (point >= 0xFE00 && point <= 0xFE0F) || point == 0xFEFF || point == 0xFFA0 ||
         (point >= 0xFFF9 && point <= 0xFFFB) || (point >= 0xE0000 && point <= 0xE007F);
}

}  // namespace ringfile::format
