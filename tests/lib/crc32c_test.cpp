#include <doctest/doctest.h>

#include <string>

#include "ringfile/crc32c.hpp"
#include "support/rings.hpp"

using ringfile::crc32c;
using ringfile::test::as_bytes;

TEST_CASE("crc32c matches the published check values") {
  // RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
  CHECK(crc32c(as_bytes("123456789")) == 0xE3069283u);
  CHECK(crc32c(as_bytes(std::string(32, '\0'))) == 0x8A9136AAu);
  CHECK(crc32c(as_bytes(std::string(32, '\xff'))) == 0x62A8AB43u);
  CHECK(crc32c(as_bytes("")) == 0u);
}

TEST_CASE("crc32c of a split buffer equals that of the whole") {
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over and again";
  for (std::size_t split = 0; split <= text.size(); ++split) {
    const std::uint32_t first = crc32c(as_bytes(text.substr(0, split)));
    REQUIRE(crc32c(as_bytes(text.substr(split)), first) == crc32c(as_bytes(text)));
  }
}
