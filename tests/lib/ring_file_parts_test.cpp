// The words a refused creation uses for the free space it found (lib/src/ring_file_parts.cpp):
// where root may be given the filesystem's reserved blocks, how much of the free space is not
// reserved, sizes that round alike shown exactly, and exact sizes in words.
#include <doctest/doctest.h>

#include <ringfile/ring.hpp>

#include "ring_file_parts.hpp"

using namespace ringfile;
using detail::describe_free_space;
using detail::FreeSpace;
using detail::human_bytes_beside;

TEST_CASE("ring file parts: free space is shown as the creation saw it, reserved blocks named apart") {
  SUBCASE("unknown: fstatvfs failed") { CHECK(describe_free_space(std::nullopt, kGiB) == "unknown"); }
  SUBCASE("none of it reserved") {
    CHECK(describe_free_space(FreeSpace{3 * kGiB, 3 * kGiB}, 8 * kGiB) == "3.0 GiB");
  }
  SUBCASE("root counts the reserved blocks, which the filesystem may not grant it") {
    CHECK(describe_free_space(FreeSpace{3 * kGiB, 2 * kGiB + kGiB / 2}, 8 * kGiB) ==
          "3.0 GiB (2.5 GiB of it not reserved)");
  }
  SUBCASE("both rounding to what the ring asks for: shown exactly") {
    const std::uint64_t asked = 8 * kGiB;
    CHECK(describe_free_space(FreeSpace{asked - 4096, asked - 8192}, asked) ==
          std::to_string(asked - 4096) + " bytes (" + std::to_string(asked - 8192) + " bytes of it not reserved)");
  }
}

TEST_CASE("ring file parts: a size beside another is rounded unless both round to the same text") {
  CHECK(human_bytes_beside(kMiB, 2 * kMiB) == "1.0 MiB");
  CHECK(human_bytes_beside(kMiB, kMiB) == "1.0 MiB");
  CHECK(human_bytes_beside(kMiB - 8, kMiB) == "1048568 bytes");
  CHECK(human_bytes_beside(1023, 1) == "1023 B");
}

TEST_CASE("ring file parts: an exact size in words") {
  CHECK(detail::byte_count(0) == "0 bytes");
  CHECK(detail::byte_count(1) == "1 byte");  // was "1 bytes" (found by a tester)
  CHECK(detail::byte_count(4095) == "4095 bytes");
}
