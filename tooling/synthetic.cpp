#include "ringfile/tooling/synthetic.hpp"

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

// The filler is a splitmix64 stream: word i depends on the seed and i only, so words are
// independent and the loops below are straight-line code without calls.

// Writes the filler of `size` payload bytes from kSyntheticMinBytes on.
void write_filler(std::byte* payload, std::size_t size, std::uint64_t producer_id, std::uint64_t sequence) noexcept {
  std::uint64_t state = filler_seed(producer_id, sequence);
  std::size_t offset = kSyntheticMinBytes;
  for (; offset + 8 <= size; offset += 8) {
    const std::uint64_t word = splitmix64(state);
    std::memcpy(payload + offset, &word, 8);
  }
  if (offset < size) {
    const std::uint64_t word = splitmix64(state);
    std::memcpy(payload + offset, &word, size - offset);
  }
}

// Whether the filler of `size` bytes is intact. Differences are gathered over a block of words
// and tested once per block: no branch per word, and the verifier costs what the generator does.
bool filler_intact(const std::byte* payload, std::size_t size, std::uint64_t producer_id,
                   std::uint64_t sequence) noexcept {
  constexpr std::size_t kBlockWords = 64;
  std::uint64_t state = filler_seed(producer_id, sequence);
  std::size_t offset = kSyntheticMinBytes;
  while (offset + 8 <= size) {
    const std::size_t words = std::min(kBlockWords, (size - offset) / 8);
    std::uint64_t differences = 0;
    for (std::size_t index = 0; index < words; ++index, offset += 8) {
      std::uint64_t found = 0;
      std::memcpy(&found, payload + offset, 8);
      differences |= found ^ splitmix64(state);
    }
    if (differences != 0) return false;
  }
  if (offset < size) {
    const std::uint64_t word = splitmix64(state);
    return std::memcmp(payload + offset, &word, size - offset) == 0;
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
  write_filler(payload.data(), payload.size(), producer_id, sequence);
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
  const bool filler_ok = magic == kSyntheticMagic && size == payload.size() &&
                         filler_intact(payload.data(), payload.size(), producer_id, sequence);
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
