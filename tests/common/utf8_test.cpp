// UTF-8 as consumer names and ringfile-consumer's escaped payloads read it.
#include <doctest/doctest.h>

#include <string>

#include "ringfile/format/utf8.hpp"

using namespace ringfile::format;

TEST_CASE("a UTF-8 character is decoded to its length and code point, whatever follows it") {
  CHECK(decode_utf8("a").length == 1);
  CHECK(decode_utf8("a").code_point == U'a');
  CHECK(decode_utf8(std::string_view("\0z", 2)).code_point == 0);
  CHECK(decode_utf8("\x7f").code_point == 0x7F);
  CHECK(decode_utf8("\xc3\xa9!").length == 2);
  CHECK(decode_utf8("\xc3\xa9!").code_point == 0xE9);
  CHECK(decode_utf8("\xc2\x9b").code_point == 0x9B);
  CHECK(decode_utf8("\xe6\x97\xa5").length == 3);
  CHECK(decode_utf8("\xe6\x97\xa5").code_point == 0x65E5);
  CHECK(decode_utf8("\xe2\x80\xae").code_point == 0x202E);
  CHECK(decode_utf8("\xf0\x9f\x98\x80").length == 4);
  CHECK(decode_utf8("\xf0\x9f\x98\x80").code_point == 0x1F600);
  CHECK(decode_utf8("\xf4\x8f\xbf\xbf").code_point == 0x10FFFF);
}

TEST_CASE("bytes that start no character decode to length 0") {
  // A continuation byte, the overlong leads C0 and C1, leads past F4; a sequence cut short or
  // with an ASCII byte or a lead byte where a continuation byte belongs.
  for (const char* bad : {"\x80", "\xbf", "\xc0\xaf", "\xc1\xbf", "\xf5\x80\x80\x80", "\xff", "\xc3", "\xe6\x97",
                          "\xf0\x9f\x98", "\xc3" "A", "\xc2" "A", "\xe6\x41\xa5", "\xe6\x97\x41", "\xf0\x9f\x98\xc3"}) {
    CAPTURE(std::string(bad));
    CHECK(decode_utf8(bad).length == 0);
  }
}

TEST_CASE("overlong forms, surrogates and code points past U+10FFFF start no character") {
  // E0 80 80 is U+0000 in three bytes, ED A0 80 the surrogate U+D800, F4 90 80 80 is U+110000.
  for (const char* bytes : {"\xe0\x80\x80", "\xe0\x80\xa0", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
                            "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80"}) {
    CAPTURE(std::string(bytes));
    CHECK(decode_utf8(bytes).length == 0);
  }
  // The first character past each of those limits is one.
  for (const char* bytes : {"\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80", "\xf0\x90\x80\x80"}) {
    CAPTURE(std::string(bytes));
    CHECK(decode_utf8(bytes).length == std::string_view(bytes).size());
  }
}

TEST_CASE("control characters are C0, DEL and C1; the characters around them are not") {
  for (const char32_t point : {0x00, 0x09, 0x0A, 0x1B, 0x1F, 0x7F, 0x80, 0x85, 0x9B, 0x9F}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK(is_control(point));
  }
  for (const char32_t point : {0x20, 0x41, 0x7E, 0xA0, 0xE9, 0x202E, 0x10FFFF}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK_FALSE(is_control(point));
  }
}

TEST_CASE("what acts rather than shows: the controls, line separators and bidirectional controls") {
  for (const char32_t point : {0x1B, 0x9B, 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A, 0x202E, 0x2066, 0x2069}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK(acts_rather_than_shows(point));
  }
  for (const char32_t point : {0x20, 0x41, 0xA0, 0xE9, 0x200D, 0x2027, 0x202F, 0x2065, 0x206A, 0x10FFFF}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK_FALSE(acts_rather_than_shows(point));
  }
}

TEST_CASE("spaces other than U+0020 and characters that show nothing; letters and U+0020 are neither") {
  for (const char32_t point : {0xA0, 0xAD, 0x034F, 0x115F, 0x1680, 0x2000, 0x200A, 0x200B, 0x200D, 0x202F, 0x205F,
                               0x2060, 0x3000, 0x3164, 0xFE00, 0xFE0F, 0xFEFF, 0xFFA0, 0xFFF9, 0xE0001, 0xE007F}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK(is_blank_or_invisible(point));
  }
  for (const char32_t point : {0x20, 0x41, 0xE9, 0x034E, 0x200E, 0x2010, 0x3001, 0xFE10, 0xFEFE, 0xFFFC, 0x1F600,
                               0xE0080}) {
    CAPTURE(static_cast<unsigned>(point));
    CHECK_FALSE(is_blank_or_invisible(point));
  }
}
