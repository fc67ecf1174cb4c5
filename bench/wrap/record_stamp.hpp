// Every record begins with its sequence number (how many records the ring's writer wrote before
// it), so a reader can tell the record it expected from one written over it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace ringfile::bench::wrap {

inline constexpr std::size_t kRecordStampBytes = sizeof(std::uint64_t);

// @pre record.size() >= kRecordStampBytes
inline void stamp_record_sequence(std::span<std::byte> record, std::uint64_t sequence) noexcept {
  std::memcpy(record.data(), &sequence, kRecordStampBytes);
}

// @pre record.size() >= kRecordStampBytes
inline std::uint64_t record_sequence(std::span<const std::byte> record) noexcept {
  std::uint64_t sequence = 0;
  std::memcpy(&sequence, record.data(), kRecordStampBytes);
  return sequence;
}

}  // namespace ringfile::bench::wrap
