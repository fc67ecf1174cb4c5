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

constexpr std::uint64_t align_up(std::uint64_t value, std::uint64_t alignment) noexcept {
  return (value + alignment - 1) / alignment * alignment;
}

// Lock-based atomics do not work across processes: every atomic in the file must be lock-free.
static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);
static_assert(std::atomic_ref<std::uint32_t>::is_always_lock_free);

}  // namespace ringfile::format
