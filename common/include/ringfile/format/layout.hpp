// Shared constants of the ring file format: cache line, page, alignment helpers.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringfile::format {

// Every concurrently written field sits on its own line of this size. Fixed, not
// std::hardware_destructive_interference_size: the value is part of the file format.
inline constexpr std::uint64_t kCacheLineBytes = 64;

// The smallest page size the format supports; file offsets of mappings are multiples of it.
inline constexpr std::uint64_t kPageBytes = 4096;

// Records are 8-byte aligned so that every frame header word can be accessed atomically.
inline constexpr std::uint64_t kFrameAlignment = 8;

// Positions are byte counts since the ring was created; at 2^62 a ring written at 100 GB/s would
// be 1,400 years old. A position past it, or not a multiple of kFrameAlignment, was not written by
// a producer: the file is damaged (or forged), and a frame read or written there could straddle
// the end of the data area. Sums of a position and a frame's stride cannot overflow below it.
inline constexpr std::uint64_t kMostPosition = std::uint64_t{1} << 62;

constexpr bool plausible_position(std::uint64_t position) noexcept {
  return position % kFrameAlignment == 0 && position <= kMostPosition;
}

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) / alignment * alignment;
}

// Lock-based atomics do not work across processes: every atomic in the file must be lock-free.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

}  // namespace ringfile::format
