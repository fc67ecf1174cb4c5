#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "ringfile/tooling/synthetic.hpp"

using namespace ringfile;

TEST_CASE("synthetic records verify, and any flipped byte is caught") {
  std::vector<std::byte> record(203);
  fill_synthetic(record, 7, 42);
  SyntheticVerifier verifier;
  CHECK(verifier.check(record) == SyntheticCheck::ok);
  for (std::size_t index = 0; index < record.size(); ++index) {
    auto damaged = record;
    damaged[index] ^= std::byte{0x10};
    SyntheticVerifier fresh;
    REQUIRE(fresh.check(damaged) == SyntheticCheck::corrupt);
  }
}

TEST_CASE("the verifier counts gaps and duplicates per producer") {
  std::vector<std::byte> record(64);
  SyntheticVerifier verifier;
  for (std::uint64_t sequence : {0, 1, 2, 5, 6, 6, 3}) {
    fill_synthetic(record, 1, sequence);
    verifier.check(record);
  }
  fill_synthetic(record, 2, 10);  // another producer starts mid-stream: no gap
  CHECK(verifier.check(record) == SyntheticCheck::ok);
  CHECK(verifier.totals().records == 8);
  CHECK(verifier.totals().gaps == 1);
  CHECK(verifier.totals().missing == 2);
  CHECK(verifier.totals().duplicates == 2);
  CHECK(verifier.producers().at(1).next_sequence == 7);
  CHECK(verifier.producers().at(2).first_sequence == 10);
}

TEST_CASE("a flipped byte is caught anywhere in large records, in every block and in the tail") {
  for (const std::size_t size : {std::size_t{24}, std::size_t{25}, std::size_t{31}, std::size_t{32}, std::size_t{4000},
                                 std::size_t{600001}}) {
    std::vector<std::byte> record(size);
    fill_synthetic(record, 3, 9);
    REQUIRE(SyntheticVerifier().check(record) == SyntheticCheck::ok);
    // The first filler byte, both sides of the first block of 64 words, the middle, the last.
    for (const std::size_t index : {std::size_t{24}, std::size_t{24 + 64 * 8 - 1}, std::size_t{24 + 64 * 8}, size / 2, size - 1}) {
      if (index >= size || index < kSyntheticMinBytes) continue;
      auto damaged = record;
      damaged[index] ^= std::byte{0x01};
      INFO("size " << size << ", byte " << index);
      CHECK(SyntheticVerifier().check(damaged) == SyntheticCheck::corrupt);
    }
  }
}

TEST_CASE("the filler is the documented splitmix64 stream, word for word, for every tail length") {
  // Written out again here, from the format's description: records written by earlier builds
  // must still verify, whichever way (word by word or four words at a time) the filler is made.
  const auto reference = [](std::size_t size, std::uint64_t producer_id, std::uint64_t sequence) {
    std::vector<std::byte> bytes(size);
    std::uint64_t state = producer_id * 0xD6E8FEB86659FD93ull ^ sequence * 0x9E3779B97F4A7C15ull;
    for (std::size_t offset = kSyntheticMinBytes; offset < size; offset += 8) {
      std::uint64_t word = (state += 0x9E3779B97F4A7C15ull);
      word = (word ^ (word >> 30)) * 0xBF58476D1CE4E5B9ull;
      word = (word ^ (word >> 27)) * 0x94D049BB133111EBull;
      word ^= word >> 31;
      std::memcpy(bytes.data() + offset, &word, std::min<std::size_t>(8, size - offset));
    }
    return bytes;
  };
  for (std::size_t size : {24ul, 25ul, 31ul, 32ul, 55ul, 56ul, 57ul, 88ul, 100ul, 4096ul, 4099ul, 65536ul}) {
    std::vector<std::byte> record(size);
    fill_synthetic(record, 5, 1234567);
    const std::vector<std::byte> expected = reference(size, 5, 1234567);
    INFO("size " << size);
    REQUIRE(std::equal(record.begin() + kSyntheticMinBytes, record.end(), expected.begin() + kSyntheticMinBytes));
    SyntheticVerifier verifier;
    REQUIRE(verifier.check(record) == SyntheticCheck::ok);
    // A changed word anywhere in the filler, the four-word part or the tail, is caught.
    for (std::size_t offset = kSyntheticMinBytes; offset < size; offset += 8) {
      auto damaged = record;
      damaged[offset] ^= std::byte{1};
      SyntheticVerifier fresh;
      REQUIRE(fresh.check(damaged) == SyntheticCheck::corrupt);
    }
  }
}
