// Atomic access to fields of the mapped file. std::atomic_ref on the file's plain fields; the
// file is shared between processes, so every call site names its memory order and pairing.
#pragma once

#include <atomic>
#include <cstdint>

namespace ringfile::detail {

template <class T>
std::atomic_ref<T> atomic_field(T& field) noexcept {
  static_assert(std::atomic_ref<T>::is_always_lock_free);
  return std::atomic_ref<T>(field);
}

// Loads from a header mapped read-only (ringfile-status): atomic_ref needs a non-const object,
// and a load never writes.
template <class T>
T load_field(const T& field, std::memory_order order) noexcept {
  return std::atomic_ref<T>(const_cast<T&>(field)).load(order);
}

// The fences of the seqlock-style reads (a claim in the producer table, a record copied while
// producers may overwrite it). ThreadSanitizer does not model fences and GCC refuses them under
// -fsanitize=thread with -Werror; there a compiler barrier stands in (on x86-64, all an acquire
// or release fence is anyway).
inline void acquire_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  asm volatile("" ::: "memory");
#else
  std::atomic_thread_fence(std::memory_order_acquire);
#endif
}
inline void release_fence() noexcept {
#if defined(__SANITIZE_THREAD__)
  asm volatile("" ::: "memory");
#else
  std::atomic_thread_fence(std::memory_order_release);
#endif
}

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

}  // namespace ringfile::detail
