// The shared parsing and formatting of the programs: sizes, durations, rates, JSON.
#include <doctest/doctest.h>

#include <ctime>
#include <limits>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/lag_estimate.hpp"
#include "ringfile/programs/text_table.hpp"
#include "ringfile/programs/time_points.hpp"
#include "ringfile/programs/units.hpp"
#include "support/json_value.hpp"

using namespace ringfile::programs;
using namespace std::chrono_literals;

TEST_CASE("sizes are powers of 1024, plain numbers bytes, anything else is refused") {
  CHECK(parse_byte_size("4096") == 4096u);
  CHECK(parse_byte_size("512K") == 512u * 1024);
  CHECK(parse_byte_size("64M") == 64u * 1024 * 1024);
  CHECK(parse_byte_size("8G") == 8ull << 30);
  CHECK(parse_byte_size("1T") == 1ull << 40);
  CHECK(parse_byte_size("1.5GiB") == 3ull << 29);
  CHECK(parse_byte_size("2k") == 2048u);
  CHECK(parse_byte_size("2kib") == 2048u);
  CHECK(parse_byte_size("100B") == 100u);
  CHECK(parse_byte_size("0") == 0u);
  // KB, MB, ... are 10^3, 10^6 to some and 2^10, 2^20 to others: refused, saying so.
  CHECK(parse_byte_size("0.5K") == 512u);
  // A fraction of a byte is a slip, not a size.
  for (const char* bad : {"", "M", "12X", "1.2.3", "-5", "5 M", "64Mi", "99999999999999999999T", "2kb", "16MB", "1GB",
                          "100.7", "1.5B", "1.1K", "1.0000001M", "0.3G"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_byte_size(bad).has_value());
  }
}

TEST_CASE("a limit is shown rounded only where the rounding is exact") {
  CHECK(format_bytes_exact(65536) == "64.0 KiB");
  CHECK(format_bytes_exact(1536) == "1.5 KiB");
  CHECK(format_bytes_exact(65496) == "65496 bytes");  // "64.0 KiB" rounded
  CHECK(format_bytes_exact(1000) == "1000 B");
  CHECK(format_bytes_exact(16ull << 20) == "16.0 MiB");
  CHECK(format_bytes_exact((16ull << 20) - 40) == "16777176 bytes");
}

TEST_CASE("a size refused is explained: ambiguous units apart from the rest") {
  CHECK(explain_bad_size("16MB") ==
        "'16MB' is ambiguous (MB is a power of 1000 to some, of 1024 to others); sizes here are powers of 1024: "
        "write 16M or 16MiB");
  CHECK(explain_bad_size("2kb").find("write 2K or 2KiB") != std::string::npos);
  CHECK(explain_bad_size("12X").find("'12X' is not a size") == 0);
  CHECK(explain_bad_size("100.7") == "'100.7' is not a whole number of bytes");
  CHECK(explain_bad_size("1.0000001M") == "'1.0000001M' is not a whole number of bytes");
  CHECK(explain_bad_size("20000000P") == "'20000000P' is more bytes than a 64-bit count holds");
}

TEST_CASE("a list of sizes is read with the same parser, separated by commas; one bad size refuses the option") {
  std::vector<std::uint64_t> sizes{1, 2};
  CLI::App app;
  add_size_list_option(app, "--sizes", sizes, "sizes");
  app.parse("--sizes 64,4K,1.5M", false);
  CHECK(sizes == std::vector<std::uint64_t>{64, 4096, 1572864});

  std::vector<std::uint64_t> untouched{1, 2};
  CLI::App refusing;
  add_size_list_option(refusing, "--sizes", untouched, "sizes");
  CHECK_THROWS_WITH_AS(refusing.parse("--sizes 64,16MB", false), doctest::Contains("'16MB' is ambiguous"),
                       CLI::ValidationError);
  CHECK(untouched == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("counts are whole numbers in digits only") {
  CHECK(parse_count("0") == 0u);
  CHECK(parse_count("1000") == 1000u);
  CHECK(parse_count("18446744073709551615") == 18446744073709551615ull);
  for (const char* bad : {"", "-1", "+1", "1.5", "1e3", "1K", " 1", "18446744073709551616"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_count(bad).has_value());
  }
}

TEST_CASE("durations take ns, us, ms, s, m, h - plain numbers are seconds unless a unit is required") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("2h") == 2h);
  CHECK(parse_duration("7d") == 7 * 24h);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("250us") == 250us);
  CHECK(parse_duration("10") == 10s);
  CHECK_FALSE(parse_duration_with_unit("10").has_value());
  CHECK(parse_duration_with_unit("10s") == 10s);
  for (const char* bad : {"", "s", "5parsecs", "1M", "ms5"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
  CHECK(explain_bad_duration("5parsecs").find("'5parsecs' is not a duration") == 0);
  // 2^63 nanoseconds is about 292 years: past it a duration is too long, not malformed.
  CHECK(parse_duration("106000d").has_value());
  CHECK_FALSE(parse_duration("107000d").has_value());
  CHECK(explain_bad_duration("107000d") == "'107000d' is too long; durations go up to 292 years (106000d)");
}

TEST_CASE("rates: a plain number is records per second, a size is bytes per second") {
  CHECK(parse_rate("50000")->per_second == 50000.0);
  CHECK_FALSE(parse_rate("50000")->in_bytes);
  CHECK(parse_rate("200M")->per_second == 200.0 * 1024 * 1024);
  CHECK(parse_rate("200M")->in_bytes);
  CHECK(parse_rate("1GiB/s")->per_second == 1024.0 * 1024 * 1024);
  CHECK_FALSE(parse_rate("0").has_value());
  CHECK_FALSE(parse_rate("fast").has_value());
}

TEST_CASE("size ranges and file modes") {
  CHECK(parse_size_range("64-4K")->min_bytes == 64u);
  CHECK(parse_size_range("64-4K")->max_bytes == 4096u);
  CHECK_FALSE(parse_size_range("512")->is_range());
  CHECK_FALSE(parse_size_range("4K-64").has_value());
  CHECK(parse_file_mode("0640") == 0640u);
  CHECK_FALSE(parse_file_mode("0689").has_value());
  CHECK_FALSE(parse_file_mode("7777").has_value());  // no setuid, setgid or sticky ring files
  CHECK(parse_file_mode("0777") == 0777u);
}

TEST_CASE("the JSON writer escapes strings and writes what a JSON reader reads back") {
  JsonWriter json;
  json.begin_object()
      .field("text", std::string("quote \" backslash \\ newline \n tab \t bell \x07 Grüße"))
      .field("count", std::uint64_t{18446744073709551615u})
      .field("rate", 1234.5)
      .field("none", std::optional<double>())
      .field("flag", true)
      .key("list")
      .begin_array()
      .value(1)
      .begin_object()
      .end_object()
      .end_array()
      .end_object();
  const auto parsed = ringfile::program_test::JsonValue::parse(json.text());
  CHECK(parsed["text"].as_string() == "quote \" backslash \\ newline \n tab \t bell \x07 Grüße");
  CHECK(parsed["count"].as_uint() == 18446744073709551615u);
  CHECK(parsed["rate"].as_double() == 1234.5);
  CHECK(parsed["none"].is_null());
  CHECK(parsed["flag"].as_bool());
  CHECK(parsed["list"].items().size() == 2);
  CHECK(json.text().find('\n') == std::string::npos);  // one document, one line
}

TEST_CASE("printable text escapes what acts on a terminal or a line, and bytes that are not UTF-8, nothing else") {
  CHECK(ringfile::programs::printable_text("/data/caf\xc3\xa9 \xe6\x97\xa5.ring") == "/data/caf\xc3\xa9 \xe6\x97\xa5.ring");
  CHECK(ringfile::programs::printable_text("a\x1b[2Jb\nc\x7f") == "a\\x1b[2Jb\\x0ac\\x7f");
  // A byte that is not UTF-8 was left raw (found by a tester): 0x9b alone is a CSI to a terminal
  // that takes 8-bit controls; a Latin-1 letter, a lone continuation byte, a cut sequence.
  CHECK(ringfile::programs::printable_text("x\xc2\x9by\xe2\x80\xaez\xff") == "x\\u009by\\u202ez\\xff");
  CHECK(ringfile::programs::printable_text("a\x9b[2Jb caf\xe9 \x80 \xe6\x97") == "a\\x9b[2Jb caf\\xe9 \\x80 \\xe6\\x97");
}

TEST_CASE("the JSON writer escapes what acts on a terminal or a line, and writes bytes that are not UTF-8 as U+FFFD") {
  JsonWriter json;
  // A CSI (U+009B), a right-to-left override, a line separator, DEL; letters outside ASCII; a byte
  // that starts no character.
  const std::string text = "\xc2\x9b" "31m \xe2\x80\xae" "ab \xe2\x80\xa8 \x7f caf\xc3\xa9 \xff!";
  json.begin_object().field("text", text).end_object();
  CHECK(json.text() == "{\"text\":\"\\u009b31m \\u202eab \\u2028 \\u007f caf\xc3\xa9 \\ufffd!\"}");
  const auto parsed = ringfile::program_test::JsonValue::parse(json.text());
  CHECK(parsed["text"].as_string() == "\xc2\x9b" "31m \xe2\x80\xae" "ab \xe2\x80\xa8 \x7f caf\xc3\xa9 \xef\xbf\xbd!");
}

TEST_CASE("numbers for people") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(1024.0 * 1024 - 40) == "1.0 MiB");  // not 1024.0 KiB
  CHECK(format_bytes(3.0 * (1 << 30)) == "3.0 GiB");
  CHECK(format_count(1234) == "1234");
  CHECK(format_count(1234567) == "1.23 M");
  CHECK(format_seconds(0) == "0 s");
  CHECK(format_seconds(0.25) == "250 ms");
  CHECK(format_seconds(1.5) == "1.50 s");
}

TEST_CASE("two sizes shown side by side are exact bytes where their rounded forms would read alike") {
  CHECK(format_bytes_beside(1048536, 1048576) == "1048536 bytes");
  CHECK(format_bytes_beside(1048576, 1048536) == "1048576 bytes");
  CHECK(format_bytes_beside(1 << 20, 2 << 20) == "1.0 MiB");
  CHECK(format_bytes_beside(1 << 20, 1 << 20) == "1.0 MiB");  // equal: nothing to tell apart
}

TEST_CASE("times: ISO 8601 with a zone or in local time, Unix seconds, now, a duration ago") {
  const TimePoint now = TimePoint(std::chrono::seconds(1'740'837'900));  // 2025-03-01T14:05:00Z
  const auto at = [](std::int64_t seconds, std::int64_t nanoseconds = 0) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::seconds(seconds) +
                                                                     std::chrono::nanoseconds(nanoseconds)));
  };
  CHECK(parse_time_point("2025-03-01T14:05:00Z", now) == at(1'740'837'900));
  CHECK(parse_time_point("2025-03-01 14:05:00.25Z", now) == at(1'740'837'900, 250'000'000));
  CHECK(parse_time_point("2025-03-01T16:05:00+02:00", now) == at(1'740'837'900));
  CHECK(parse_time_point("2025-03-01T09:05-0500", now) == at(1'740'837'900));
  CHECK(parse_time_point("1970-01-01T00:00:00.000000001Z", now) == at(0, 1));
  CHECK(parse_time_point("@1740837900.5", now) == at(1'740'837'900, 500'000'000));
  CHECK(parse_time_point("now", now) == now);
  CHECK(parse_time_point("10m-ago", now) == now - std::chrono::minutes(10));
  CHECK(parse_time_point("1.5h-ago", now) == now - std::chrono::minutes(90));
  // Without a zone: local time, as `date` reads it.
  std::tm local{};
  local.tm_year = 125;
  local.tm_mon = 2;
  local.tm_mday = 1;
  local.tm_hour = 14;
  local.tm_min = 5;
  local.tm_isdst = -1;
  CHECK(parse_time_point("2025-03-01T14:05", now) == at(std::mktime(&local)));
  for (const char* bad : {"", "yesterday", "2025-13-01", "2025-02-30x", "2025-03-01T25:00Z", "10-ago", "m-ago",
                          "@", "@-5", "@1e9", "2025-03-01T14:05:00+2", "2025/03/01", "2999-01-01T00:00:00Z",
                          "1969-12-31T23:59:59Z", "2025-02-30T00:00:00Z", "2024-02-30", "2100-02-29", "2025-04-31",
                          "9999-12-31T23:59:59Z", "2262-04-11T23:47:16.854775808Z", "@999999999999"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_time_point(bad, now).has_value());
  }
  // Leap days where there are; the last nanosecond 64 bits hold.
  CHECK(parse_time_point("2024-02-29T00:00:00Z", now) == at(1'709'164'800));
  CHECK(parse_time_point("2000-02-29", now).has_value());
  CHECK(parse_time_point("2262-04-11T23:47:16.854775807Z", now) ==
        TimePoint(std::chrono::nanoseconds(std::numeric_limits<std::int64_t>::max())));
  // Text shaped like a time but not one says why; other text is left to the caller.
  CHECK(explain_unusable_time("2025-02-30T00:00:00Z") == "'2025-02-30T00:00:00Z' is not a date: February 2025 has 28 days");
  CHECK(explain_unusable_time("9999-12-31T23:59:59Z").value_or("").find("is out of range: times go from 1970 to 2262-04-11") !=
        std::string::npos);
  CHECK(explain_unusable_time("@999999999999").value_or("").find("is out of range") != std::string::npos);
  // The range is judged in UTC: 23:00 on the last day of 1969 two hours west of it is 01:00 in 1970.
  CHECK(parse_time_point("1969-12-31T23:00:00-02:00", now) == at(3600));
  CHECK(explain_unusable_time("1969-12-31T23:00:00+01:00").value_or("").find("is out of range") != std::string::npos);
  // Further ago than 1970: out of range too, not clamped to 1970.
  CHECK(explain_unusable_time("30000d-ago").value_or("").find("is out of range") != std::string::npos);
  CHECK_FALSE(explain_unusable_time("yesterday").has_value());
  CHECK_FALSE(explain_unusable_time("2025-03-01T14:05:00Z").has_value());
  CHECK(format_utc_time(1'740'837'900'123'456'789ull) == "2025-03-01T14:05:00.123456789Z");
}

TEST_CASE("a table too wide for the terminal drops its optional columns, the highest drop order first") {
  TextTable table({{"NAME", TextTable::Align::left},
                   {"BIG", TextTable::Align::left, 2},
                   {"VALUE", TextTable::Align::right},
                   {"EXTRA", TextTable::Align::right, 1}});
  table.add_row({{"first"}, {std::string(30, '#')}, {"12"}, {"x"}});
  CHECK(table.render("", false) == "NAME   BIG                             VALUE  EXTRA\n"
                                   "first  ##############################     12      x\n");
  CHECK(table.render("", false, 30) == "NAME   VALUE  EXTRA\nfirst     12      x\n");
  CHECK(table.render("", false, 14) == "NAME   VALUE\nfirst     12\n");
  // Columns that are always shown are cut at the width, never wrapped.
  CHECK(table.render("", false, 8) == "NAME   V\nfirst   \n");
  CHECK(fit_lines("\x1b[1mbold text\x1b[0m\nab\n", 4) == "\x1b[1mbold\x1b[0m\nab\n");
  CHECK(display_width("h\u00e9\u2588") == 3);
  // Names in other scripts keep the columns aligned (found by a tester: CJK, emoji and combining
  // marks were counted a column each).
  CHECK(display_width("\u65e5\u672c") == 4);
  CHECK(display_width("\U0001f680x") == 3);
  CHECK(display_width("e\u0301") == 1);
  CHECK(display_width("a\xff") == 2);
  // Cut by the same columns: a wide character that would straddle the edge goes whole, a
  // combining mark stays with its letter.
  CHECK(fit_lines("\u65e5\u672c\u8a9e\n", 4) == "\u65e5\u672c\n");
  CHECK(fit_lines("ab\u65e5\n", 3) == "ab\n");
  CHECK(fit_lines("abe\u0301x\n", 3) == "abe\u0301\n");
  TextTable names({{"NAME", TextTable::Align::left}, {"N", TextTable::Align::right}});
  names.add_row({{"\u65e5\u672c"}, {"1"}});
  names.add_row({{"abcd"}, {"2"}});
  CHECK(names.render("", false) == "NAME  N\n\u65e5\u672c  1\nabcd  2\n");
}

TEST_CASE("the average bytes a record took: none before any record, nor from a count the head cannot hold") {
  using ringfile::programs::average_frame_bytes;
  CHECK_FALSE(average_frame_bytes(0, 0).has_value());
  CHECK(average_frame_bytes(104 * 10, 10) == 104.0);
  CHECK(average_frame_bytes(8 * 10, 10) == 8.0);  // ten empty records of a group: their entries
  // A damaged producer slot's count (a tester's next_sequence of 2^64-1): the average was 0, and
  // a lag divided by it 2^63 records.
  CHECK_FALSE(average_frame_bytes(8 * 10, 11).has_value());
  CHECK_FALSE(average_frame_bytes(1 << 20, ~std::uint64_t{0}).has_value());
}
