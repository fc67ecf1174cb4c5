// What every record holds and what every reader does with it, the same for every kind: the
// writer sends record_pattern() with its sequence stamped in front (record_stamp.hpp); a reader
// checks the stamp and every other byte, then works on the record (--reader-work), so that
// readers can be made slower than writers by a set amount of work per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ringfile::bench::wrap {

// The bytes of every record after its stamp. Not zeros: a page of zeros could be mistaken for
// the zero-filled page of an unwritten or invalidated extent.
std::vector<std::byte> record_pattern(std::size_t record_bytes);

// @pre one reader thread per RecordCheck.
class RecordCheck {
 public:
  // `work_passes`: times each record is hashed byte by byte as it is checked (FNV-1a: one
  // multiply per byte in a dependency chain, so the multiply's latency sets the cost per byte
  // and a pass is several times slower than a writer's copy of the same bytes).
  RecordCheck(std::size_t record_bytes, std::uint64_t work_passes);

  // true: `record` has the expected size, stamp and bytes. Does the work either way.
  bool check(std::span<const std::byte> record, std::uint64_t expected_sequence) noexcept;

  // Folds every hash computed so far; printed nowhere, kept so that the work is not optimised out.
  std::uint64_t work_digest() const noexcept { return work_digest_; }

 private:
  std::vector<std::byte> pattern_;
  std::uint64_t work_passes_;
  std::uint64_t work_digest_ = 0;
};

}  // namespace ringfile::bench::wrap
