#include "ringfile/tooling/synthetic.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace ringfile {
namespace {

constexpr std::uint32_t kSyntheticMagic = 0x314E5953;  // "SYN1" little-endian

// The filler is a splitmix64 stream: word i is the mix of seed + (i + 1) x gamma, so words are
// independent and the loops below are straight-line code without calls.
constexpr std::uint64_t kGamma = 0x9E3779B97F4A7C15ull;

#if defined(__x86_64__)
// Four words at a time with AVX2, where the CPU has it: the scalar loop waits on two 64-bit
// multiplications a word (4 KiB took 607 ns to write, 772 to check, most of what ringfile-producer
// --synthetic spent on a 4 KiB record). AVX2 has no 64-bit multiplication; each is three of 32 x 32
// bits, four lanes at once. The words are the same.
// Below this much filler the lanes' set-up costs more than they save (a 64-byte record has 40).
constexpr std::size_t kFewestFourWordsBytes = 64;

bool cpu_has_avx2() noexcept {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}

__attribute__((target("avx2"))) inline __m256i times(__m256i value, std::uint64_t constant) noexcept {
  const __m256i low = _mm256_set1_epi64x(static_cast<long long>(constant & 0xFFFFFFFFu));
  const __m256i high = _mm256_set1_epi64x(static_cast<long long>(constant >> 32));
  const __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(value, 32), low),
                                         _mm256_mul_epu32(value, high));
  return _mm256_add_epi64(_mm256_mul_epu32(value, low), _mm256_slli_epi64(cross, 32));
}

// The stream's words in fours: lanes one gamma apart, each stepping four gammas.
struct FourWords {
  __m256i states;

  __attribute__((target("avx2"))) explicit FourWords(std::uint64_t seed) noexcept
      : states(_mm256_add_epi64(_mm256_set1_epi64x(static_cast<long long>(seed)),
                                _mm256_set_epi64x(static_cast<long long>(4 * kGamma), static_cast<long long>(3 * kGamma),
                                                  static_cast<long long>(2 * kGamma), static_cast<long long>(kGamma)))) {}

  __attribute__((target("avx2"))) __m256i next() noexcept {
    __m256i value = states;
    states = _mm256_add_epi64(states, _mm256_set1_epi64x(static_cast<long long>(4 * kGamma)));
    value = times(_mm256_xor_si256(value, _mm256_srli_epi64(value, 30)), 0xBF58476D1CE4E5B9ull);
    value = times(_mm256_xor_si256(value, _mm256_srli_epi64(value, 27)), 0x94D049BB133111EBull);
    return _mm256_xor_si256(value, _mm256_srli_epi64(value, 31));
  }
};

// Writes whole groups of four words from `offset` on; returns the offset after them.
__attribute__((target("avx2"))) std::size_t write_fours(std::byte* payload, std::size_t offset, std::size_t size,
                                                        std::uint64_t seed) noexcept {
  FourWords words(seed);
  for (; offset + 32 <= size; offset += 32) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(payload + offset), words.next());
  }
  return offset;
}

// Whether the whole groups of four words from `offset` on are intact; `*end` is the offset after them.
__attribute__((target("avx2"))) bool fours_intact(const std::byte* payload, std::size_t offset, std::size_t size,
                                                  std::uint64_t seed, std::size_t* end) noexcept {
  FourWords words(seed);
  __m256i differences = _mm256_setzero_si256();
  for (; offset + 32 <= size; offset += 32) {
    const __m256i found = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(payload + offset));
    differences = _mm256_or_si256(differences, _mm256_xor_si256(found, words.next()));
  }
  *end = offset;
  return _mm256_testz_si256(differences, differences) != 0;
}
#endif

std::uint64_t splitmix64(std::uint64_t& state) noexcept {
  std::uint64_t value = (state += kGamma);
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ull;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBull;
  return value ^ (value >> 31);
}

std::uint64_t filler_seed(std::uint64_t producer_id, std::uint64_t sequence) noexcept {
  return producer_id * 0xD6E8FEB86659FD93ull ^ sequence * kGamma;
}

// Writes the filler of `size` payload bytes from kSyntheticMinBytes on.
void write_filler(std::byte* payload, std::size_t size, std::uint64_t producer_id, std::uint64_t sequence) noexcept {
  std::uint64_t state = filler_seed(producer_id, sequence);
  std::size_t offset = kSyntheticMinBytes;
#if defined(__x86_64__)
  if (cpu_has_avx2() && size >= offset + kFewestFourWordsBytes) {
    const std::size_t end = write_fours(payload, offset, size, state);
    state += (end - offset) / 8 * kGamma;  // the words written: the scalar stream goes on after them
    offset = end;
  }
#endif
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
#if defined(__x86_64__)
  if (cpu_has_avx2() && size >= offset + kFewestFourWordsBytes) {
    std::size_t end = offset;
    if (!fours_intact(payload, offset, size, state, &end)) return false;
    state += (end - offset) / 8 * kGamma;
    offset = end;
  }
#endif
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
