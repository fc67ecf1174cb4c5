#include <doctest/doctest.h>

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
