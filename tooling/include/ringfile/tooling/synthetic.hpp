// Self-verifying records: each names its producer and sequence number, and the rest of its bytes
// are derived from both, so a consumer can check every record without knowing what was sent.
//
//   0  u32 magic "SYN1" | 4 u32 payload bytes | 8 u64 producer id | 16 u64 sequence |
//   24 filler: a splitmix64 stream seeded from (producer id, sequence)
//
// Tooling, not the library's API: ringfile-producer --synthetic and ringfile-consumer --verify,
// the tests and the example use it (target ringfile::tooling, not installed).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>

namespace ringfile {

inline constexpr std::size_t kSyntheticMinBytes = 24;

// Fills `payload` (at least kSyntheticMinBytes) as record `sequence` of `producer_id`.
void fill_synthetic(std::span<std::byte> payload, std::uint64_t producer_id,
                    std::uint64_t sequence) noexcept;

enum class SyntheticCheck {
  ok,         // the next record of its producer
  gap,        // records of this producer were skipped
  duplicate,  // a sequence number at or below one already seen
  corrupt,    // bad magic, length or filler
};

// Checks a stream of synthetic records, per producer.
class SyntheticVerifier {
 public:
  struct ProducerProgress {
    std::uint64_t first_sequence = 0;
    std::uint64_t next_sequence = 0;  // one past the highest seen
    std::uint64_t records = 0;
  };
  struct Totals {
    std::uint64_t records = 0;
    std::uint64_t missing = 0;     // sequence numbers skipped, summed over producers
    std::uint64_t gaps = 0;        // times a producer's sequence jumped
    std::uint64_t duplicates = 0;
    std::uint64_t corrupt = 0;
  };

  SyntheticCheck check(std::span<const std::byte> payload) noexcept;
  const Totals& totals() const noexcept { return totals_; }
  const std::map<std::uint64_t, ProducerProgress>& producers() const noexcept { return producers_; }

 private:
  std::map<std::uint64_t, ProducerProgress> producers_;
  Totals totals_;
};

}  // namespace ringfile
