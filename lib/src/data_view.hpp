// A bounded sliding view of the data area: the only place that maps data. A process never maps
// the whole ring, so its mapped bytes and page tables do not grow with the ring's size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ring_file.hpp"

namespace ringfile::detail {

class DataView {
 public:
  enum class Access { read_only, read_write };
  // What the view's owner mostly does with the pages ahead of it, for filling their page tables
  // on a memory-backed ring: a consumer reads (and writes only to pad over a dead claim).
  enum class Use { reading, writing };
  DataView(const RingFile& file, Access access) noexcept
      : DataView(file, access, access == Access::read_write ? Use::writing : Use::reading) {}
  DataView(const RingFile& file, Access access, Use use) noexcept;
  ~DataView() { unmap(); }
  DataView(const DataView&) = delete;
  DataView& operator=(const DataView&) = delete;

  // Address of data-area offsets [offset, offset + length), mapping the window that holds them
  // if needed: a view that starts at a multiple of half a view, stretched to hold a range longer
  // than half a view. @pre offset + length <= capacity. Returns nullptr when the kernel refuses
  // the mapping (out of address space or memory), with errno as mmap() left it (ENOMEM).
  std::byte* at(std::uint64_t offset, std::uint64_t length) noexcept {
    if (offset >= window_start_ && offset + length <= window_end_) [[likely]] {
      if (offset + length > populate_mark_) [[unlikely]] populate_ahead(offset + length);
      return window_base_ + (offset - window_start_);
    }
    return slide_to(offset, length);
  }

  // On a ring in memory (tmpfs) whose data area this view holds whole: maps all of it now and
  // fills its page tables, so that no access in the first lap stops for that (filling ahead, at()
  // stops every 128 KiB for 32 pages: the ping-pong's 99.9th percentile). For the view of a
  // producer or consumer as it attaches; elsewhere it does nothing. With `touch_each_page`, it
  // then reads a byte of every page too (ProducerOptions::pre_touch, ConsumerOptions::pre_touch).
  void fill_whole_area(bool touch_each_page) noexcept;
  // Drops the mapping (e.g. before a long sleep); the next at() maps again.
  void unmap() noexcept;
  // Unmaps this view's pages below data-area `offset` (they stay in the page cache), so that
  // POSIX_FADV_DONTNEED can drop them: the kernel keeps pages that are mapped anywhere.
  // @pre nothing below `offset` in this view is in use (handed out and not yet returned)
  void forget_pages_before(std::uint64_t offset) noexcept;
  std::uint64_t mapped_bytes() const noexcept { return window_end_ - window_start_; }
  std::uint64_t window_start() const noexcept { return window_start_; }

 private:
  std::byte* slide_to(std::uint64_t offset, std::uint64_t length) noexcept;
  bool slide_forward(std::uint64_t start, std::uint64_t end) noexcept;
  bool map_window(std::uint64_t start, std::uint64_t end) noexcept;
  void populate_ahead(std::uint64_t end) noexcept;

  const RingFile* file_;
  Access access_;
  Use use_;
  std::byte* window_base_ = nullptr;  // mapped with mmap; [window_start_, window_end_) of the data area
  std::uint64_t window_start_ = 0;  // data-area offset of window_base_
  std::uint64_t window_end_ = 0;
  // Memory-backed rings only (populate_ahead): the window's page tables are filled up to
  // populated_end_, and at() fills more once an access passes populate_mark_. Never, elsewhere.
  std::uint64_t populated_end_ = 0;
  std::uint64_t populate_mark_ = ~std::uint64_t{0};
};

}  // namespace ringfile::detail
