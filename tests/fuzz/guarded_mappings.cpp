// Every file mapping of the fuzz targets sits between two inaccessible guard regions, so that a
// read or write past either end of a view or of the header faults (and the fuzzer reports it)
// instead of landing silently in whatever the kernel mapped next to it. The targets link with
// -Wl,--wrap=mmap,--wrap=munmap: the library's (and Boost's) calls arrive here.
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "fuzz_ring_file.hpp"

extern "C" void* __real_mmap(void* address, std::size_t length, int protection, int flags, int fd, off_t offset);
extern "C" int __real_munmap(void* address, std::size_t length);

namespace {

constexpr std::size_t kGuardBytes = 256 * 1024;
constexpr std::size_t kPageBytes = 4096;

struct Reservation {
  char* start = nullptr;  // the first guard
  std::size_t bytes = 0;  // guards included
};

std::mutex g_mutex;
std::array<Reservation, 256> g_reservations;
std::atomic<std::size_t> g_guarded{0};

}  // namespace

extern "C" void* __wrap_mmap(void* address, std::size_t length, int protection, int flags, int fd, off_t offset) {
  if (address != nullptr || fd < 0 || (flags & MAP_FIXED) != 0 || length == 0) {
    return __real_mmap(address, length, protection, flags, fd, offset);
  }
  const std::size_t rounded = (length + kPageBytes - 1) / kPageBytes * kPageBytes;
  const std::size_t total = rounded + 2 * kGuardBytes;
  void* reserved = __real_mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (reserved == MAP_FAILED) return MAP_FAILED;
  char* inner = static_cast<char*>(reserved) + kGuardBytes;
  if (__real_mmap(inner, length, protection, flags | MAP_FIXED, fd, offset) == MAP_FAILED) {
    __real_munmap(reserved, total);
    return MAP_FAILED;
  }
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Reservation& reservation : g_reservations) {
    if (reservation.start == nullptr) {
      reservation = {static_cast<char*>(reserved), total};
      g_guarded.fetch_add(1, std::memory_order_relaxed);
      return inner;
    }
  }
  std::fputs("fuzz: more than 256 file mappings at once\n", stderr);
  std::abort();
}

extern "C" int __wrap_munmap(void* address, std::size_t length) {
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    for (Reservation& reservation : g_reservations) {
      if (reservation.start != nullptr && reservation.start + kGuardBytes == address) {
        const Reservation whole = reservation;
        reservation = {};
        return __real_munmap(whole.start, whole.bytes);
      }
    }
  }
  return __real_munmap(address, length);
}

namespace ringfile::fuzz {

void require_guarded_mappings() {
  if (g_guarded.load(std::memory_order_relaxed) == 0) {
    std::fputs("fuzz: the ring was mapped without guard regions (link with -Wl,--wrap=mmap,--wrap=munmap)\n",
               stderr);
    std::abort();
  }
}

}  // namespace ringfile::fuzz
