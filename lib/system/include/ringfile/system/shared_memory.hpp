// Memory shared between a process and the processes it forks: an anonymous MAP_SHARED mapping,
// made before the fork so that every child sees the same pages.
#pragma once

#include <cstddef>
#include <new>
#include <span>
#include <string>
#include <type_traits>

namespace ringfile::system {

// `bytes` of zeroed memory, every page allocated and mapped for writing up front, so that nobody
// pays for first touches in the middle of a timed or hot loop. Throws ringfile::Error (io_error) naming
// `purpose` ("the producer tallies") when the mapping fails.
class SharedMemory {
 public:
  SharedMemory(std::size_t bytes, const std::string& purpose);
  ~SharedMemory();
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return bytes_; }

  // Maps every page into the calling process's page tables. A forked child inherits none of a
  // shared mapping's (the kernel copies only private ones at fork): without this it takes a
  // page fault at its first touch of each page, which a process that maps a ring file and fills
  // its tables as it attaches does not. Call in the child before its timed work.
  void fill_page_tables() const noexcept;
  // Reads a byte of every page. Where the host shadows the guest's page tables, a process's first
  // access to each page costs microseconds even with its tables filled; a process that maps a
  // ring with ProducerOptions::pre_touch (or ConsumerOptions') pays that as it attaches.
  void touch_pages() const noexcept;

 private:
  std::byte* data_ = nullptr;
  std::size_t bytes_ = 0;
};

// `count` value-initialised objects of `T` in shared memory. T must work across processes as
// it is (no pointers into one process's heap; atomics lock-free).
template <class T>
class SharedObjects {
  static_assert(std::is_trivially_destructible_v<T>, "nothing runs the destructors in the children");

 public:
  explicit SharedObjects(const std::string& purpose, std::size_t count = 1)
      : memory_(sizeof(T) * count, purpose), count_(count) {
    for (std::size_t index = 0; index < count; ++index) new (memory_.data() + index * sizeof(T)) T{};
  }

  T& operator[](std::size_t index) const noexcept { return objects()[index]; }
  T& front() const noexcept { return objects()[0]; }
  std::span<T> all() const noexcept { return {objects(), count_}; }

 private:
  T* objects() const noexcept { return std::launder(reinterpret_cast<T*>(memory_.data())); }
  SharedMemory memory_;
  std::size_t count_;
};

}  // namespace ringfile::system
