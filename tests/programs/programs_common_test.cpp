// The shared parsing and formatting of the programs: sizes, durations, rates, JSON.
#include <doctest/doctest.h>

#include "ringfile/programs/json_writer.hpp"
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
  CHECK(parse_byte_size("2kb") == 2048u);
  CHECK(parse_byte_size("0") == 0u);
  for (const char* bad : {"", "M", "12X", "1.2.3", "-5", "5 M", "64Mi", "99999999999999999999T"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_byte_size(bad).has_value());
  }
}

TEST_CASE("durations take ns, us, ms, s, m, h, plain numbers are seconds unless a unit is required") {
  CHECK(parse_duration("500ms") == 500ms);
  CHECK(parse_duration("30s") == 30s);
  CHECK(parse_duration("5m") == 5min);
  CHECK(parse_duration("2h") == 2h);
  CHECK(parse_duration("1.5s") == 1500ms);
  CHECK(parse_duration("250us") == 250us);
  CHECK(parse_duration("10") == 10s);
  CHECK_FALSE(parse_duration_with_unit("10").has_value());
  CHECK(parse_duration_with_unit("10s") == 10s);
  for (const char* bad : {"", "s", "5parsecs", "1M", "ms5"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration(bad).has_value());
  }
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

TEST_CASE("numbers for people") {
  CHECK(format_bytes(512) == "512 B");
  CHECK(format_bytes(1536) == "1.5 KiB");
  CHECK(format_bytes(3.0 * (1 << 30)) == "3.0 GiB");
  CHECK(format_count(1234) == "1234");
  CHECK(format_count(1234567) == "1.23 M");
  CHECK(format_seconds(0) == "0 s");
  CHECK(format_seconds(0.25) == "250 ms");
  CHECK(format_seconds(1.5) == "1.50 s");
}
