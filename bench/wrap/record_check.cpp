#include "wrap/record_check.hpp"

#include <cstring>

#include "ringfile/system/fnv1a.hpp"
#include "wrap/record_stamp.hpp"

namespace ringfile::bench::wrap {

std::vector<std::byte> record_pattern(std::size_t record_bytes) {
  std::vector<std::byte> record(record_bytes);
  for (std::size_t index = 0; index < record.size(); ++index) {
    record[index] = static_cast<std::byte>((index * 131 + 17) & 0xff);
  }
  return record;
}

RecordCheck::RecordCheck(std::size_t record_bytes, std::uint64_t work_passes)
    : pattern_(record_pattern(record_bytes)), work_passes_(work_passes) {}

bool RecordCheck::check(std::span<const std::byte> record,
                        std::uint64_t expected_sequence) noexcept {
  for (std::uint64_t pass = 0; pass < work_passes_; ++pass) {
    // Byte by byte: the cost per byte is set by the multiply's latency (system::fnv1a).
    work_digest_ += system::fnv1a(record, system::kFnv1aOffsetBasis ^ pass);
  }
  if (record.size() != pattern_.size()) return false;
  if (record_sequence(record) != expected_sequence) return false;
  return std::memcmp(record.data() + kRecordStampBytes, pattern_.data() + kRecordStampBytes,
                     record.size() - kRecordStampBytes) == 0;
}

}  // namespace ringfile::bench::wrap
