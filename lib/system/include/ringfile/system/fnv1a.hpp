// FNV-1a, 64 bits: a small, stable hash of a few bytes (the ring's session key) or, byte by byte,
// a set amount of work per byte (the wrap benchmark's slow readers).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace ringfile::system {

inline constexpr std::uint64_t kFnv1aOffsetBasis = 14695981039346656037ull;

// Continues `hash` over `bytes`; start from kFnv1aOffsetBasis. Byte at a time on purpose: each step
// needs the previous one's multiply, so the compiler cannot vectorise it away.
inline std::uint64_t fnv1a(std::span<const std::byte> bytes, std::uint64_t hash = kFnv1aOffsetBasis) noexcept {
  constexpr std::uint64_t kPrime = 1099511628211ull;
  for (const std::byte byte : bytes) {
    hash ^= static_cast<std::uint64_t>(byte);
    hash *= kPrime;
  }
  return hash;
}

}  // namespace ringfile::system
