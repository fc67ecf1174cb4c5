#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "crc32c_in_ring.hpp"
#include "crc32c_portable.hpp"
#include "ringfile/crc32c.hpp"
#include "support/rings.hpp"

using ringfile::crc32c;
using ringfile::test::as_bytes;

namespace {

// Bytes from a linear congruential generator: every size and offset sees uneven data.
std::vector<std::byte> random_bytes(std::size_t size, std::uint64_t seed) {
  std::vector<std::byte> bytes(size);
  for (auto& value : bytes) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    value = static_cast<std::byte>(seed >> 56);
  }
  return bytes;
}

}  // namespace

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

TEST_CASE("crc32c folded, fused, and with three streams, agrees with the byte-at-a-time table for every size") {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("vpclmulqdq")) MESSAGE("no VPCLMULQDQ: the folding ways fall back to the table here");
  if (!__builtin_cpu_supports("avx512f")) MESSAGE("no AVX-512: the wide folding falls back to the table here");
#endif
  const std::vector<std::byte> buffer = random_bytes(100000, 12345);
  // Around both block sizes of the streams (3 x 256 and 3 x 4096 bytes), the folding's least
  // size (256 bytes) and block (128 bytes), the wide folding's (512 and 256 bytes), the fused
  // block (4 KiB) and sizes that end in each.
  for (std::size_t size : {0ul, 1ul, 7ul, 8ul, 64ul, 255ul, 256ul, 257ul, 383ul, 384ul, 385ul, 511ul, 512ul, 519ul,
                           640ul, 647ul, 767ul, 768ul, 769ul, 1536ul, 4095ul, 4096ul, 4097ul, 4223ul, 4351ul, 4352ul,
                           8191ul, 8192ul, 8200ul, 12287ul, 12288ul, 12289ul, 13057ul, 24576ul, 30000ul, 36871ul,
                           100000ul}) {
    for (std::size_t offset : {0ul, 1ul, 5ul}) {
      if (offset + size > buffer.size()) continue;
      const std::span<const std::byte> piece(buffer.data() + offset, size);
      INFO("size " << size << " offset " << offset);
      REQUIRE(crc32c(piece) == ringfile::detail::crc32c_portable(piece));
      REQUIRE(crc32c(piece, 0xDEADBEEF) == ringfile::detail::crc32c_portable(piece, 0xDEADBEEF));
      REQUIRE(ringfile::detail::crc32c_three_streams(piece) == ringfile::detail::crc32c_portable(piece));
      REQUIRE(ringfile::detail::crc32c_folding(piece, 0xDEADBEEF) ==
              ringfile::detail::crc32c_portable(piece, 0xDEADBEEF));
      REQUIRE(ringfile::detail::crc32c_wide_folding(piece, 0xDEADBEEF) ==
              ringfile::detail::crc32c_portable(piece, 0xDEADBEEF));
      REQUIRE(ringfile::detail::crc32c_fused(piece, 0xDEADBEEF) ==
              ringfile::detail::crc32c_portable(piece, 0xDEADBEEF));
      REQUIRE(ringfile::detail::crc32c_three_streams(piece, 0xDEADBEEF) ==
              ringfile::detail::crc32c_portable(piece, 0xDEADBEEF));
    }
  }
}

TEST_CASE("copy_with_crc32c copies every byte and returns the source's crc32c, as crc32c_front_to_back does, for every size") {
  const std::vector<std::byte> source = random_bytes(20000, 777);
  // Around the folding's least size (256 bytes) and block (128 bytes), the wide folding's (512 and
  // 256 bytes), with tails of each length class, and destinations off the alignment of the source.
  for (std::size_t size : {0ul, 1ul, 8ul, 63ul, 255ul, 256ul, 257ul, 383ul, 384ul, 391ul, 511ul, 512ul, 640ul, 647ul,
                           903ul, 4096ul, 4101ul, 4351ul, 20000ul}) {
    for (std::size_t offset : {0ul, 3ul}) {
      if (offset + size > source.size()) continue;
      const std::span<const std::byte> piece(source.data() + offset, size);
      INFO("size " << size << " source offset " << offset);
      REQUIRE(ringfile::crc32c_front_to_back(piece) == ringfile::detail::crc32c_portable(piece));
      // The copy this CPU's copy_with_crc32c makes, and the one on 256-bit registers.
      for (const auto copy : {&ringfile::copy_with_crc32c, &ringfile::detail::copy_with_crc32c_folding}) {
        // Guard bytes on both sides catch a copy that runs over.
        std::vector<std::byte> destination(size + 2 * 64 + 7, std::byte{0xA5});
        std::byte* to = destination.data() + 64 + offset;
        REQUIRE(copy(to, piece) == ringfile::detail::crc32c_portable(piece));
        REQUIRE(std::equal(piece.begin(), piece.end(), to));
        REQUIRE(std::all_of(destination.data(), to, [](std::byte value) { return value == std::byte{0xA5}; }));
        REQUIRE(std::all_of(to + size, destination.data() + destination.size(),
                            [](std::byte value) { return value == std::byte{0xA5}; }));
      }
    }
  }
}
