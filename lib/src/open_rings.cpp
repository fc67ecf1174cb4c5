#include "open_rings.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "ringfile/truncated_rings.hpp"

namespace ringfile::detail {
namespace {

constexpr int kOpenRingEntries = 256;
constexpr std::size_t kPathBytes = 256;

enum EntryState : std::uint32_t { kFree = 0, kFilling = 1, kReady = 2 };

struct OpenRing {
  std::atomic<std::uint32_t> state{kFree};
  int fd = -1;
  std::uint64_t declared_bytes = 0;
  char path[kPathBytes] = {};  // cut to fit, NUL-terminated
};
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);  // read in a signal handler

OpenRing g_open_rings[kOpenRingEntries];

// Appends to a fixed buffer, as a signal handler may (no allocation, no stdio).
class LineWriter {
 public:
  LineWriter(char* buffer, std::size_t capacity) noexcept : buffer_(buffer), capacity_(capacity) {}
  LineWriter& text(const char* text) noexcept {
    while (*text != '\0') put(*text++);
    return *this;
  }
  LineWriter& number(std::uint64_t value) noexcept {
    char digits[20];
    int count = 0;
    do {
      digits[count++] = static_cast<char>('0' + value % 10);
      value /= 10;
    } while (value != 0);
    while (count > 0) put(digits[--count]);
    return *this;
  }
  void finish() noexcept {
    if (capacity_ != 0) buffer_[std::min(used_, capacity_ - 1)] = '\0';
  }

 private:
  void put(char character) noexcept {
    if (used_ + 1 < capacity_) buffer_[used_] = character;
    ++used_;
  }
  char* buffer_;
  std::size_t capacity_;
  std::size_t used_ = 0;
};

}  // namespace

int enter_open_ring(int fd, std::uint64_t declared_bytes, std::string_view path) noexcept {
  for (int index = 0; index < kOpenRingEntries; ++index) {
    OpenRing& entry = g_open_rings[index];
    std::uint32_t expected = kFree;
    // Acquire: a previous owner's release in leave_open_ring happened before our writes.
    if (!entry.state.compare_exchange_strong(expected, kFilling, std::memory_order_acquire)) continue;
    entry.fd = fd;
    entry.declared_bytes = declared_bytes;
    const std::size_t length = std::min(path.size(), kPathBytes - 1);
    std::memcpy(entry.path, path.data(), length);
    entry.path[length] = '\0';
    // Release: pairs with the acquire load in describe_truncated_ring, which then sees the fields.
    entry.state.store(kReady, std::memory_order_release);
    return index;
  }
  return -1;
}

void leave_open_ring(int entry) noexcept {
  if (entry < 0 || entry >= kOpenRingEntries) return;
  // Release: our reads of the entry are done before another ring may claim and refill it.
  g_open_rings[entry].state.store(kFree, std::memory_order_release);
}

}  // namespace ringfile::detail

namespace ringfile {

bool describe_truncated_ring(char* message, std::size_t capacity) noexcept {
  for (detail::OpenRing& entry : detail::g_open_rings) {
    // Acquire: pairs with the release in enter_open_ring (fd, size and path are filled in).
    if (entry.state.load(std::memory_order_acquire) != detail::kReady) continue;
    struct stat status {};
    if (::fstat(entry.fd, &status) != 0) continue;
    const auto file_bytes = static_cast<std::uint64_t>(status.st_size);
    if (file_bytes >= entry.declared_bytes) continue;
    detail::LineWriter line(message, capacity);
    line.text("'").text(entry.path).text("' was truncated to ").number(file_bytes)
        .text(" bytes while in use (its header declares ").number(entry.declared_bytes)
        .text("); the ring is damaged: restore it from a complete copy or create a new ring");
    line.finish();
    return true;
  }
  return false;
}

}  // namespace ringfile
