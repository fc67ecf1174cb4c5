#include <doctest/doctest.h>

#include <vector>

#include "ringfile/synthetic.hpp"

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
