#include "ringfile/synthetic.hpp"

#include <algorithm>
#include <cstring>

namespace ringfile {
namespace {

constexpr std::uint32_t kSyntheticMagic = 0x314E5953;  // "SYN1" little-endian

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t value = (state += 0x9E3779B97F4A7C15ull);
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

std::uint64_t filler_seed(std::uint64_t producer_id, std::uint64_t sequence) noexcept {
  return producer_id * 0xD6E8FEB86659FD93ull ^ sequence * 0x9E3779B97F4A7C15ull;
}

// Calls visit(offset, word) for each 8-byte filler word (the last one possibly partial).
template <class Visit>
bool for_each_filler_word(std::size_t size, std::uint64_t producer_id, std::uint64_t sequence,
                          Visit&& visit) noexcept {
  std::uint64_t state = filler_seed(producer_id, sequence);
  for (std::size_t offset = kSyntheticMinBytes; offset < size; offset += 8) {
    if (!visit(offset, splitmix64(state))) return false;
  }
  return true;
}

}  // namespace

void fill_synthetic(std::span<std::byte> payload, std::uint64_t producer_id,
                    std::uint64_t sequence) noexcept {
  if (payload.size() < kSyntheticMinBytes) return;
  const auto size = static_cast<std::uint32_t>(payload.size());
  std::memcpy(payload.data(), &kSyntheticMagic, 4);
  std::memcpy(payload.data() + 4, &size, 4);
  std::memcpy(payload.data() + 8, &producer_id, 8);
  std::memcpy(payload.data() + 16, &sequence, 8);
  for_each_filler_word(payload.size(), producer_id, sequence, [&](std::size_t offset, std::uint64_t word) {
    std::memcpy(payload.data() + offset, &word, std::min<std::size_t>(8, payload.size() - offset));
    return true;
  });
}

SyntheticCheck SyntheticVerifier::check(std::span<const std::byte> payload) noexcept {
  totals_.records += 1;
  std::uint32_t magic = 0;
  std::uint32_t size = 0;
  std::uint64_t producer_id = 0;
  std::uint64_t sequence = 0;
  if (payload.size() < kSyntheticMinBytes) {
    totals_.corrupt += 1;
    return SyntheticCheck::corrupt;
  }
  std::memcpy(&magic, payload.data(), 4);
  std::memcpy(&size, payload.data() + 4, 4);
  std::memcpy(&producer_id, payload.data() + 8, 8);
  std::memcpy(&sequence, payload.data() + 16, 8);
  const bool filler_ok =
      magic == kSyntheticMagic && size == payload.size() &&
      for_each_filler_word(payload.size(), producer_id, sequence, [&](std::size_t offset, std::uint64_t word) {
        return std::memcmp(payload.data() + offset, &word, std::min<std::size_t>(8, payload.size() - offset)) == 0;
      });
  if (!filler_ok) {
    totals_.corrupt += 1;
    return SyntheticCheck::corrupt;
  }
  auto [entry, inserted] = producers_.try_emplace(producer_id);
  ProducerProgress& progress = entry->second;
  if (inserted) {
    progress.first_sequence = sequence;
    progress.next_sequence = sequence;
  }
  progress.records += 1;
  if (sequence < progress.next_sequence) {
    totals_.duplicates += 1;
    return SyntheticCheck::duplicate;
  }
  const bool jumped = sequence > progress.next_sequence;
  if (jumped) {
    totals_.gaps += 1;
    totals_.missing += sequence - progress.next_sequence;
  }
  progress.next_sequence = sequence + 1;
  return jumped ? SyntheticCheck::gap : SyntheticCheck::ok;
}

}  // namespace ringfile
