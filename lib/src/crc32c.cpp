#include "ringfile/crc32c.hpp"

#include <cstring>

#include "crc32c_folding.hpp"
#include "crc32c_in_ring.hpp"
#include "crc32c_instruction.hpp"
#include "crc32c_portable.hpp"
#include "crc32c_register.hpp"

namespace ringfile {
namespace {

// All functions below work on the raw CRC register (no pre- or post-inversion); crc32c() adds the
// inversions.

#if defined(__x86_64__)
// Buffers from 3 x 256 bytes on run three independent streams, one per third of a block: the
// crc32 instruction has a latency of 3 cycles and a throughput of 1, so three streams keep it
// busy (one stream is a third of the speed: at 4 KiB that made the checksum cost as much as the
// rest of a record's way through the ring). The streams are joined by "shifting" a register over
// the bytes that follow it, which is linear over GF(2): a 32 x 32 bit matrix, applied through
// four 256-entry tables. Long blocks (4 KiB a stream) for large buffers, short ones (256 bytes a
// stream) for medium buffers and the rest of large ones.
constexpr std::size_t kLongStreamBytes = 4096;
constexpr std::size_t kShortStreamBytes = 256;

using detail::copy_folding;
using detail::copy_wide_folding;
using detail::make_shift_table;
using detail::shift;
using detail::ShiftTable;
using detail::ThreeStreams;
using detail::update_folding;
using detail::update_fused;
using detail::update_wide_folding;
using detail::update_words;

// Shifts over one and two streams of a block size.
struct StreamShifts {
  ShiftTable by_one_stream;
  ShiftTable by_two_streams;
};

template <std::size_t kStreamBytes>
const StreamShifts& stream_shifts() noexcept {
  static const StreamShifts shifts{make_shift_table(kStreamBytes), make_shift_table(2 * kStreamBytes)};
  return shifts;
}

// Three streams over as many whole blocks of 3 x kStreamBytes as there are; advances data/size.
template <std::size_t kStreamBytes>
__attribute__((target("sse4.2"))) std::uint32_t update_three_streams(std::uint32_t crc, const std::byte*& data,
                                                                     std::size_t& size) noexcept {
  if (size < 3 * kStreamBytes) return crc;
  const StreamShifts& shifts = stream_shifts<kStreamBytes>();
  do {
    ThreeStreams streams{crc};
    for (std::size_t offset = 0; offset < kStreamBytes; offset += 8) streams.add_words(data + offset, kStreamBytes);
    crc = shift(shifts.by_two_streams, static_cast<std::uint32_t>(streams.first)) ^
          shift(shifts.by_one_stream, static_cast<std::uint32_t>(streams.second)) ^
          static_cast<std::uint32_t>(streams.third);
    data += 3 * kStreamBytes;
    size -= 3 * kStreamBytes;
  } while (size >= 3 * kStreamBytes);
  return crc;
}

__attribute__((target("sse4.2"))) std::uint32_t update_sse42(std::uint32_t crc, const std::byte* data,
                                                             std::size_t size) noexcept {
  crc = update_three_streams<kLongStreamBytes>(crc, data, size);
  crc = update_three_streams<kShortStreamBytes>(crc, data, size);
  return update_words(crc, data, size);
}

// Which of the code above this CPU runs, found once as the library is loaded. Every record's
// checksum asks: a function-local static cost a guard check there, and a call to it wherever
// link-time optimisation left it out of line (2% of a 64-byte write_batch's time, measured in one
// build). Asked before this initialiser ran (another one's static initialiser), both read false,
// and the portable code gives the same checksums.
struct CpuSupport {
  bool sse42 = false;
  bool folding = false;  // carry-less multiplication on 256-bit vectors (update_folding)
  bool wide_folding = false;  // and on 512-bit ones (update_wide_folding)
};

CpuSupport detect_cpu_support() noexcept {
  __builtin_cpu_init();  // may run before the constructor that would initialise it
  CpuSupport support;
  support.sse42 = __builtin_cpu_supports("sse4.2");
  support.folding = support.sse42 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("pclmul") &&
                    __builtin_cpu_supports("vpclmulqdq");
  support.wide_folding = support.folding && __builtin_cpu_supports("avx512f");
  return support;
}

const CpuSupport kCpuSupport = detect_cpu_support();

bool cpu_has_sse42() noexcept { return kCpuSupport.sse42; }
bool cpu_has_folding() noexcept { return kCpuSupport.folding; }
bool cpu_has_wide_folding() noexcept { return kCpuSupport.wide_folding; }
#endif

}  // namespace

std::uint32_t crc32c(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  const std::uint32_t crc = ~seed;
#if defined(__x86_64__)
  if (cpu_has_wide_folding()) return ~update_wide_folding(crc, bytes.data(), bytes.size());
  if (cpu_has_folding()) return ~update_fused(crc, bytes.data(), bytes.size());
  if (cpu_has_sse42()) return ~update_sse42(crc, bytes.data(), bytes.size());
#endif
  return ~detail::crc32c_update_by_table(crc, bytes.data(), bytes.size());
}

std::uint32_t copy_with_crc32c(std::byte* destination, std::span<const std::byte> source) noexcept {
#if defined(__x86_64__)
  if (cpu_has_wide_folding()) return ~copy_wide_folding(~0u, destination, source.data(), source.size());
  if (cpu_has_folding()) return ~copy_folding(~0u, destination, source.data(), source.size());
#endif
  if (!source.empty()) std::memcpy(destination, source.data(), source.size());
  return crc32c(source);
}

std::uint32_t crc32c_front_to_back(std::span<const std::byte> bytes) noexcept {
#if defined(__x86_64__)
  // Measured here, 4 KiB records read from memory: 268 ns folding alone, 455 ns crc32c().
  if (cpu_has_wide_folding()) return ~update_wide_folding(~0u, bytes.data(), bytes.size());
  if (cpu_has_folding()) return ~update_folding(~0u, bytes.data(), bytes.size());
#endif
  return crc32c(bytes);
}

bool crc32c_folds_wide() noexcept {
#if defined(__x86_64__)
  return cpu_has_wide_folding();
#else
  return false;
#endif
}

namespace detail {

std::uint32_t crc32c_portable(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
  return ~detail::crc32c_update_by_table(~seed, bytes.data(), bytes.size());
}

std::uint32_t crc32c_folding(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
#if defined(__x86_64__)
  if (cpu_has_folding()) return ~update_folding(~seed, bytes.data(), bytes.size());
#endif
  return crc32c_portable(bytes, seed);
}

std::uint32_t crc32c_fused(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
#if defined(__x86_64__)
  if (cpu_has_folding()) return ~update_fused(~seed, bytes.data(), bytes.size());
#endif
  return crc32c_portable(bytes, seed);
}

std::uint32_t crc32c_wide_folding(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
#if defined(__x86_64__)
  if (cpu_has_wide_folding()) return ~update_wide_folding(~seed, bytes.data(), bytes.size());
#endif
  return crc32c_portable(bytes, seed);
}

std::uint32_t copy_with_crc32c_folding(std::byte* destination, std::span<const std::byte> source) noexcept {
#if defined(__x86_64__)
  if (cpu_has_folding()) return ~copy_folding(~0u, destination, source.data(), source.size());
#endif
  return copy_with_crc32c(destination, source);
}

std::uint32_t crc32c_three_streams(std::span<const std::byte> bytes, std::uint32_t seed) noexcept {
#if defined(__x86_64__)
  if (cpu_has_sse42()) return ~update_sse42(~seed, bytes.data(), bytes.size());
#endif
  return crc32c_portable(bytes, seed);
}

}  // namespace detail

}  // namespace ringfile
