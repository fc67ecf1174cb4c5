// The bytes a benchmark's producer copies its records from, at the start of a page (and the memcpy
// loop's destination, placed as a mapping would be).
//
// Where such a buffer lies within its 4 KiB page decides how often a copy's loads are taken for
// the stores of the copy before it (a core matches loads against earlier stores by their low 12
// address bits first), and a heap buffer lies wherever the allocations before it left off, which
// differs from build to build. Measured with ringfile-bench-hot-path (bench/README.md): one build's
// 64-byte write_batch copied from a page's start took 11.0 ns a record, from 16 bytes past it or
// 32 short of the page's end 12.2-12.3; from their heap buffers, builds that differed in unrelated code
// took 10.9 to 13.7. From a page's start, every build and every transport copies from the same
// place.
#pragma once

#include <cstddef>
#include <memory>
#include <new>
#include <span>

namespace ringfile::bench {

class SourceBuffer {
 public:
  // `bytes` zeroed bytes, at the start of a page. Throws std::bad_alloc.
  explicit SourceBuffer(std::size_t bytes)
      : bytes_(static_cast<std::byte*>(::operator new[](bytes == 0 ? 1 : bytes, std::align_val_t{kPageBytes}))),
        size_(bytes) {
    for (std::size_t index = 0; index < size_; ++index) bytes_[index] = std::byte{0};
  }

  std::span<std::byte> bytes() const noexcept { return {bytes_.get(), size_}; }
  std::byte* data() const noexcept { return bytes_.get(); }
  std::size_t size() const noexcept { return size_; }

 private:
  static constexpr std::size_t kPageBytes = 4096;
  struct PageAlignedDelete {
    void operator()(std::byte* bytes) const noexcept { ::operator delete[](bytes, std::align_val_t{kPageBytes}); }
  };
  std::unique_ptr<std::byte[], PageAlignedDelete> bytes_;
  std::size_t size_ = 0;
};

}  // namespace ringfile::bench
