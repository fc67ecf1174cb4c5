// --verify's judgement (consumer/verification.cpp): which losses and gaps a run may have and still
// pass, from the synthetic records it read and the consumer's counts at attach and now.
#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <initializer_list>

#include "ringfile/tooling/synthetic.hpp"
#include "verification.hpp"

using namespace ringfile;
using namespace ringfile::consumer;

namespace {

constexpr std::uint64_t kProducer = 7;

// A verifier that has read records `sequences` of one producer, in that order.
SyntheticVerifier verifier_after(std::initializer_list<std::uint64_t> sequences) {
  SyntheticVerifier verifier;
  std::array<std::byte, 64> payload{};
  for (const std::uint64_t sequence : sequences) {
    fill_synthetic(payload, kProducer, sequence);
    verifier.check(payload);
  }
  return verifier;
}

ConsumerStats lost(std::uint64_t records, std::uint64_t bytes) {
  ConsumerStats stats;
  stats.lost_records = records;
  stats.lost_bytes = bytes;
  return stats;
}

}  // namespace

TEST_CASE("verification: a run that read every record in order passes, with nothing lost") {
  const SyntheticVerifier verifier = verifier_after({0, 1, 2, 3});
  const VerificationInputs inputs{&verifier, {}, {}, false, false};
  const VerificationOutcome outcome = verification_of(inputs, {}, 0);
  CHECK(outcome.ok());
  CHECK(outcome.describe() == "verify OK: 4 records from 1 producer, in order and intact");
}

TEST_CASE("verification: under the block policy a gap fails, with or without a loss the library reported") {
  const SyntheticVerifier verifier = verifier_after({0, 1, 5, 6});
  const VerificationInputs inputs{&verifier, {}, {}, false, false};
  SUBCASE("no loss reported") { CHECK_FALSE(verification_of(inputs, {}, 0).ok()); }
  SUBCASE("a loss reported during the run") {
    const VerificationOutcome outcome = verification_of(inputs, lost(3, 300), 0);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.describe().find("no loss is allowed under the block policy") != std::string::npos);
  }
}

TEST_CASE("verification: losses found at attach pass only where the run itself read without a gap") {
  // A named consumer whose saved cursor producers lapped while it was away: the attach finds the
  // loss (found_at_attach), and the run reads on from the oldest record left.
  const ConsumerStats at_attach = lost(10, 1000);
  SUBCASE("no gap after the attach: the loss at attach is excused") {
    const SyntheticVerifier verifier = verifier_after({40, 41, 42});
    const VerificationInputs inputs{&verifier, {}, at_attach, false, false};
    const VerificationOutcome outcome = verification_of(inputs, at_attach, 0);
    CHECK(outcome.loss_allowed);
    CHECK(outcome.ok());
    CHECK(outcome.describe().find("10 records (1000 bytes) lost to lapping") != std::string::npos);
  }
  SUBCASE("a gap during the run is not excused by the loss at attach") {
    const SyntheticVerifier verifier = verifier_after({40, 41, 45});
    const VerificationInputs inputs{&verifier, {}, at_attach, false, false};
    const VerificationOutcome outcome = verification_of(inputs, at_attach, 0);
    CHECK_FALSE(outcome.loss_allowed);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.describe().find("3 missing in 1 gaps") != std::string::npos);
  }
  SUBCASE("a loss reported after the attach is not excused by the one at attach") {
    const SyntheticVerifier verifier = verifier_after({40, 41, 42});
    const VerificationInputs inputs{&verifier, {}, at_attach, false, false};
    CHECK_FALSE(verification_of(inputs, lost(12, 1200), 0).loss_allowed);
  }
}

TEST_CASE("verification: where producers may lap the consumer, a gap the library reported passes") {
  const SyntheticVerifier verifier = verifier_after({0, 1, 5, 6});
  const VerificationInputs inputs{&verifier, {}, {}, true, false};
  SUBCASE("reported") {
    const VerificationOutcome outcome = verification_of(inputs, lost(3, 300), 0);
    CHECK(outcome.ok());
    CHECK(outcome.describe() ==
          "verify OK: 4 records from 1 producer, in order and intact; 3 records (300 bytes) lost to lapping "
          "(3 missing in 1 gaps)");
  }
  SUBCASE("not reported: a gap nothing explains fails") {
    const VerificationOutcome outcome = verification_of(inputs, {}, 0);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.describe().find("not explained by lapping") != std::string::npos);
  }
}

TEST_CASE("verification: counts carried from earlier runs are not this run's losses") {
  const SyntheticVerifier verifier = verifier_after({0, 1, 2});
  const ConsumerStats carried = lost(5, 500);
  const VerificationInputs inputs{&verifier, carried, carried, false, false};
  const VerificationOutcome outcome = verification_of(inputs, carried, 0);
  CHECK(outcome.lost_records == 0);
  CHECK(outcome.lost_bytes == 0);
  CHECK(outcome.ok());
}

TEST_CASE("verification: a corrupt or duplicated record fails whatever the policy") {
  SyntheticVerifier verifier = verifier_after({0, 1, 1});
  SUBCASE("duplicated") {
    const VerificationInputs inputs{&verifier, {}, {}, true, true};
    const VerificationOutcome outcome = verification_of(inputs, {}, 0);
    CHECK_FALSE(outcome.ok());
    CHECK(outcome.describe().find("1 duplicated") != std::string::npos);
  }
  SUBCASE("corrupt") {
    std::array<std::byte, 64> payload{};
    fill_synthetic(payload, kProducer, 2);
    payload[40] ^= std::byte{1};
    verifier.check(payload);
    const VerificationInputs inputs{&verifier, {}, {}, true, true};
    CHECK(verification_of(inputs, {}, 0).totals.corrupt == 1);
    CHECK_FALSE(verification_of(inputs, {}, 0).ok());
  }
}

TEST_CASE("verification: with --skip-damaged, losses are put down to the damaged stretches skipped") {
  const SyntheticVerifier verifier = verifier_after({0, 1, 5});
  const VerificationInputs inputs{&verifier, {}, {}, false, true};
  const VerificationOutcome outcome = verification_of(inputs, lost(3, 300), 2);
  CHECK(outcome.ok());
  CHECK(outcome.describe().find("lost to 2 damaged stretches skipped") != std::string::npos);
}
