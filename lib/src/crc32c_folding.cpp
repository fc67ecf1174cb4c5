// CRC32C by folding with carry-less multiplication (VPCLMULQDQ), on 256-bit registers and, where
// the CPU has AVX-512, on 512-bit ones; and the folding fused with crc32 streams for 4 KiB blocks.
// crc32c.cpp picks among these and the crc32 instruction's ways for the CPU it runs on.
#include "crc32c_folding.hpp"

#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "crc32c_instruction.hpp"
#include "crc32c_register.hpp"

namespace ringfile::detail {
namespace {

// Folding with carry-less multiplication (VPCLMULQDQ on 256-bit registers), where the CPU has
// it: the crc32 instruction computes 8 bytes a cycle at best, three streams or not, which at
// 4 KiB was half a record's cost once the ring's own overhead was gone. Folding computes no CRC
// on the way: eight 16-byte lanes, each a polynomial congruent (mod P) to all the data it has
// passed, are carried forward over the next 128 bytes and added to them; at the end the lanes
// are folded into one, and the crc32 instruction reduces those 16 bytes (then the tail).
// Measured here (an AMD EPYC with VPCLMULQDQ): 512 B 20 ns against 47, 4 KiB 160 against 198.
//
// The arithmetic, with bits reflected as in the crc32 instruction: bit i of a 16-byte lane is
// the coefficient of x^(127 - i). Carrying a lane D bits forward multiplies its first and second
// 8 bytes by x^(D + 64) and x^D mod P; a carry-less product of 64-bit reflected operands lands one
// degree low, so the constants are x^(D + 63) and x^(D - 1) mod P, reflected, in a word's top half.
constexpr std::uint32_t x_power_mod_p(unsigned exponent) noexcept {  // unreflected: bit d is x^d
  std::uint64_t remainder = 1;
  for (unsigned step = 0; step < exponent; ++step) {
    remainder <<= 1;
    if ((remainder >> 32) != 0) remainder ^= 0x11EDC6F41ull;  // P, the Castagnoli polynomial
  }
  return static_cast<std::uint32_t>(remainder);
}

constexpr std::uint64_t fold_constant(unsigned exponent) noexcept {
  const std::uint32_t power = x_power_mod_p(exponent);
  std::uint32_t reflected = 0;
  for (int bit = 0; bit < 32; ++bit) reflected |= ((power >> bit) & 1u) << (31 - bit);
  return std::uint64_t{reflected} << 32;
}

struct FoldConstants {
  std::uint64_t first_half, second_half;
};

constexpr FoldConstants carry_by(unsigned bits) noexcept {
  return {fold_constant(bits + 63), fold_constant(bits - 1)};
}

constexpr std::size_t kFoldBlockBytes = 128;  // four 256-bit registers, eight lanes

__attribute__((target("avx2"))) __m256i load(const std::byte* at) noexcept {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at));
}

__attribute__((target("avx2"))) __m256i in_each_lane(const FoldConstants& constants) noexcept {
  const auto first = static_cast<long long>(constants.first_half);
  const auto second = static_cast<long long>(constants.second_half);
  return _mm256_set_epi64x(second, first, second, first);
}

__attribute__((target("avx2,vpclmulqdq,pclmul"))) __m256i carry(__m256i lanes, __m256i constants,
                                                                  __m256i onto) noexcept {
  return _mm256_xor_si256(_mm256_xor_si256(_mm256_clmulepi64_epi128(lanes, constants, 0x00),
                                           _mm256_clmulepi64_epi128(lanes, constants, 0x11)),
                          onto);
}

// Carried over a block (1024 bits), a register (256) and a lane (128).
constexpr FoldConstants kByBlock = carry_by(8 * kFoldBlockBytes);
constexpr FoldConstants kByRegister = carry_by(256);
constexpr FoldConstants kByLane = carry_by(128);

// The folding's eight lanes over whole 128-byte blocks.
struct FoldLanes {
  __m256i first, second, third, fourth;
};

// One 128-byte block of data, in the lanes' shape.
__attribute__((target("avx2"), always_inline)) inline FoldLanes load_block(const std::byte* data) noexcept {
  return {load(data), load(data + 32), load(data + 64), load(data + 96)};
}

__attribute__((target("avx2"), always_inline)) inline void store_block(const FoldLanes& block, std::byte* to) noexcept {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(to), block.first);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 32), block.second);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 64), block.third);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(to + 96), block.fourth);
}

// The lanes after the first block, given the register before it.
__attribute__((target("avx2,vpclmulqdq,pclmul"), always_inline)) inline FoldLanes fold_first(
    std::uint32_t crc, const FoldLanes& block) noexcept {
  // The register so far is the same as its 4 bytes added to the data's first 4, starting from 0.
  return {_mm256_xor_si256(block.first, _mm256_set_epi64x(0, 0, 0, crc)), block.second, block.third, block.fourth};
}

__attribute__((target("avx2,vpclmulqdq,pclmul"), always_inline)) inline void fold_next(
    FoldLanes& lanes, __m256i by_block, const FoldLanes& block) noexcept {
  lanes.first = carry(lanes.first, by_block, block.first);
  lanes.second = carry(lanes.second, by_block, block.second);
  lanes.third = carry(lanes.third, by_block, block.third);
  lanes.fourth = carry(lanes.fourth, by_block, block.fourth);
}

// The register after the blocks the lanes have passed.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"), always_inline)) inline std::uint32_t fold_reduce(
    const FoldLanes& lanes) noexcept {
  const __m256i by_register = in_each_lane(kByRegister);
  __m256i folded_lanes = carry(lanes.first, by_register, lanes.second);
  folded_lanes = carry(folded_lanes, by_register, lanes.third);
  folded_lanes = carry(folded_lanes, by_register, lanes.fourth);
  const __m128i by_lane = _mm256_castsi256_si128(in_each_lane(kByLane));
  const __m128i first = _mm256_castsi256_si128(folded_lanes);
  const __m128i last = _mm256_extracti128_si256(folded_lanes, 1);
  const __m128i folded = _mm_xor_si128(
      _mm_xor_si128(_mm_clmulepi64_si128(first, by_lane, 0x00), _mm_clmulepi64_si128(first, by_lane, 0x11)),
      last);
  const std::uint64_t reduced = _mm_crc32_u64(0, static_cast<std::uint64_t>(_mm_cvtsi128_si64(folded)));
  return static_cast<std::uint32_t>(_mm_crc32_u64(reduced, static_cast<std::uint64_t>(_mm_extract_epi64(folded, 1))));
}

// Folds the whole 128-byte blocks left onto `lanes`, reduces them and adds the words after them;
// with kCopies it also stores every byte it reads to `to` (copy_folding, copy_wide_folding).
template <bool kCopies>
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"), always_inline)) inline std::uint32_t finish_folding(
    FoldLanes lanes, std::byte* to, const std::byte* data, std::size_t size) noexcept {
  const __m256i by_block = in_each_lane(kByBlock);
  for (; size >= kFoldBlockBytes; data += kFoldBlockBytes, size -= kFoldBlockBytes) {
    const FoldLanes block = load_block(data);
    if constexpr (kCopies) {
      store_block(block, to);
      to += kFoldBlockBytes;
    }
    fold_next(lanes, by_block, block);
  }
  if constexpr (kCopies) {
    if (size != 0) std::memcpy(to, data, size);
  }
  return update_words(fold_reduce(lanes), data, size);
}

}  // namespace

__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_folding(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept {
  // Below this, one stream of words: no stream block of update_sse42 is this short either.
  if (size < 2 * kFoldBlockBytes) return update_words(crc, data, size);
  const FoldLanes lanes = fold_first(crc, load_block(data));
  return finish_folding<false>(lanes, nullptr, data + kFoldBlockBytes, size - kFoldBlockBytes);
}

// Folding while copying: each block is stored to `to` from the registers it is folded from.
// Copying into the ring waits on its stores, and the folding's arithmetic fits in that wait:
// measured here, 4 KiB into a 64 MiB buffer (cold, as a ring's next frame is), memcpy 229 ns,
// memcpy then crc32c 375 ns, this loop 223 ns. Folding alone rather than the fused loop below:
// its crc32 streams would need stores of their own words.
__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t copy_folding(
    std::uint32_t crc, std::byte* to, const std::byte* data, std::size_t size) noexcept {
  if (size < 2 * kFoldBlockBytes) return copy_words(crc, to, data, size);
  const FoldLanes block = load_block(data);
  store_block(block, to);
  return finish_folding<true>(fold_first(crc, block), to + kFoldBlockBytes, data + kFoldBlockBytes,
                              size - kFoldBlockBytes);
}

namespace {

// Folding on 512-bit registers (AVX-512 with VPCLMULQDQ), where the CPU has it: the arithmetic of
// update_folding over 256-byte blocks, sixteen lanes, so half the instructions a byte. On a CPU
// that runs a 512-bit carry-less multiplication as fast as a 256-bit one that halves the time:
// measured on an AMD EPYC (Zen 5) in this core's cache, see bench/README.md. After the last whole
// 256-byte block the lanes are narrowed to update_folding's (narrow_lanes), which finish the rest.
constexpr std::size_t kWideFoldBlockBytes = 256;  // four 512-bit registers, sixteen lanes
constexpr FoldConstants kByWideBlock = carry_by(8 * kWideFoldBlockBytes);

struct WideFoldLanes {
  __m512i first, second, third, fourth;
};

__attribute__((target("avx512f"), always_inline)) inline __m512i in_each_wide_lane(
    const FoldConstants& constants) noexcept {
  const auto first = static_cast<long long>(constants.first_half);
  const auto second = static_cast<long long>(constants.second_half);
  return _mm512_set_epi64(second, first, second, first, second, first, second, first);
}

__attribute__((target("avx512f"), always_inline)) inline WideFoldLanes load_wide_block(
    const std::byte* data) noexcept {
  return {_mm512_loadu_si512(data), _mm512_loadu_si512(data + 64), _mm512_loadu_si512(data + 128),
          _mm512_loadu_si512(data + 192)};
}

__attribute__((target("avx512f"), always_inline)) inline void store_wide_block(const WideFoldLanes& block,
                                                                                std::byte* to) noexcept {
  _mm512_storeu_si512(to, block.first);
  _mm512_storeu_si512(to + 64, block.second);
  _mm512_storeu_si512(to + 128, block.third);
  _mm512_storeu_si512(to + 192, block.fourth);
}

__attribute__((target("avx512f,vpclmulqdq"), always_inline)) inline __m512i carry_wide(__m512i lanes,
                                                                                      __m512i constants,
                                                                                      __m512i onto) noexcept {
  constexpr int kExclusiveOrOfThree = 0x96;  // the truth table of a ^ b ^ c
  return _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(lanes, constants, 0x00),
                                   _mm512_clmulepi64_epi128(lanes, constants, 0x11), onto, kExclusiveOrOfThree);
}

__attribute__((target("avx512f"), always_inline)) inline WideFoldLanes fold_first_wide(
    std::uint32_t crc, const WideFoldLanes& block) noexcept {
  return {_mm512_xor_si512(block.first, _mm512_set_epi64(0, 0, 0, 0, 0, 0, 0, crc)), block.second, block.third,
          block.fourth};
}

__attribute__((target("avx512f,vpclmulqdq"), always_inline)) inline void fold_next_wide(
    WideFoldLanes& lanes, __m512i by_block, const WideFoldLanes& block) noexcept {
  lanes.first = carry_wide(lanes.first, by_block, block.first);
  lanes.second = carry_wide(lanes.second, by_block, block.second);
  lanes.third = carry_wide(lanes.third, by_block, block.third);
  lanes.fourth = carry_wide(lanes.fourth, by_block, block.fourth);
}

// update_folding's lanes after the same bytes: the first half of the block carried over 128 bytes
// onto the second, each 512-bit result split into two 256-bit registers in the order of the data.
__attribute__((target("avx512f,vpclmulqdq"), always_inline)) inline FoldLanes narrow_lanes(
    const WideFoldLanes& lanes) noexcept {
  const __m512i by_half_block = in_each_wide_lane(kByBlock);
  const __m512i front = carry_wide(lanes.first, by_half_block, lanes.third);
  const __m512i back = carry_wide(lanes.second, by_half_block, lanes.fourth);
  // The zero-masked extraction: the plain one leaves its unused operand undefined, which GCC 12
  // reports as maybe used uninitialised.
  constexpr __mmask8 kAllOfHalf = 0xFF;
  return {_mm512_maskz_extracti64x4_epi64(kAllOfHalf, front, 0), _mm512_maskz_extracti64x4_epi64(kAllOfHalf, front, 1),
          _mm512_maskz_extracti64x4_epi64(kAllOfHalf, back, 0), _mm512_maskz_extracti64x4_epi64(kAllOfHalf, back, 1)};
}

}  // namespace

__attribute__((target("avx512f,avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_wide_folding(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept {
  if (size < 2 * kWideFoldBlockBytes) return update_folding(crc, data, size);
  const __m512i by_block = in_each_wide_lane(kByWideBlock);
  WideFoldLanes wide = fold_first_wide(crc, load_wide_block(data));
  data += kWideFoldBlockBytes;
  size -= kWideFoldBlockBytes;
  for (; size >= kWideFoldBlockBytes; data += kWideFoldBlockBytes, size -= kWideFoldBlockBytes) {
    fold_next_wide(wide, by_block, load_wide_block(data));
  }
  return finish_folding<false>(narrow_lanes(wide), nullptr, data, size);
}

// copy_folding on 512-bit registers.
__attribute__((target("avx512f,avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t copy_wide_folding(
    std::uint32_t crc, std::byte* to, const std::byte* data, std::size_t size) noexcept {
  if (size < 2 * kWideFoldBlockBytes) return copy_folding(crc, to, data, size);
  const __m512i by_block = in_each_wide_lane(kByWideBlock);
  WideFoldLanes block = load_wide_block(data);
  store_wide_block(block, to);
  WideFoldLanes wide = fold_first_wide(crc, block);
  data += kWideFoldBlockBytes;
  to += kWideFoldBlockBytes;
  size -= kWideFoldBlockBytes;
  for (; size >= kWideFoldBlockBytes;
       data += kWideFoldBlockBytes, to += kWideFoldBlockBytes, size -= kWideFoldBlockBytes) {
    block = load_wide_block(data);
    store_wide_block(block, to);
    fold_next_wide(wide, by_block, block);
  }
  return finish_folding<true>(narrow_lanes(wide), to, data, size);
}

namespace {

// From 4 KiB on, folding and the crc32 instruction at once: they run on different units, each
// at about 8 bytes a cycle, and one loop that feeds both keeps both busy. Each 4 KiB block is
// folded over its first 17 x 128 bytes while three crc32 streams run over the other 1920 (640
// bytes each, 5 words of each per fold step); the four registers are then joined by shifting,
// as the three streams are. Measured here (an AMD EPYC with VPCLMULQDQ): see bench/README.md.
// That is on bytes in this core's cache: from memory its four fronts lose to folding's one
// (crc32c_front_to_back).
constexpr std::size_t kFusedFoldSteps = 17;
constexpr std::size_t kFusedWordsPerStep = 5;
constexpr std::size_t kFusedStreamBytes = 8 * kFusedWordsPerStep * (kFusedFoldSteps - 1);
constexpr std::size_t kFusedBlockBytes = kFusedFoldSteps * kFoldBlockBytes + 3 * kFusedStreamBytes;
static_assert(kFusedBlockBytes == 4096, "one fused block a 4 KiB record");

struct FusedShifts {
  ShiftTable by_one_stream, by_two_streams, by_three_streams;
};

const FusedShifts& fused_shifts() noexcept {
  static const FusedShifts shifts{make_shift_table(kFusedStreamBytes), make_shift_table(2 * kFusedStreamBytes),
                                  make_shift_table(3 * kFusedStreamBytes)};
  return shifts;
}

}  // namespace

__attribute__((target("avx2,vpclmulqdq,pclmul,sse4.2"))) std::uint32_t update_fused(
    std::uint32_t crc, const std::byte* data, std::size_t size) noexcept {
  const FusedShifts& shifts = fused_shifts();
  const __m256i by_block = in_each_lane(kByBlock);
  for (; size >= kFusedBlockBytes; data += kFusedBlockBytes, size -= kFusedBlockBytes) {
    const std::byte* streams = data + kFusedFoldSteps * kFoldBlockBytes;
    FoldLanes lanes = fold_first(crc, load_block(data));
    ThreeStreams words;
    for (std::size_t step = 1; step < kFusedFoldSteps; ++step) {
      fold_next(lanes, by_block, load_block(data + step * kFoldBlockBytes));
      const std::byte* at = streams + (step - 1) * 8 * kFusedWordsPerStep;
      for (std::size_t word = 0; word < kFusedWordsPerStep; ++word) words.add_words(at + 8 * word, kFusedStreamBytes);
    }
    crc = shift(shifts.by_three_streams, fold_reduce(lanes)) ^
          shift(shifts.by_two_streams, static_cast<std::uint32_t>(words.first)) ^
          shift(shifts.by_one_stream, static_cast<std::uint32_t>(words.second)) ^
          static_cast<std::uint32_t>(words.third);
  }
  return update_folding(crc, data, size);
}

}  // namespace ringfile::detail
#endif
