#include "data_view.hpp"

#include <sys/mman.h>

#include <algorithm>

namespace ringfile::detail {

namespace bip = boost::interprocess;

DataView::DataView(const RingFile& file, Access access) noexcept : file_(&file), access_(access) {}

void DataView::unmap() noexcept {
  region_ = bip::mapped_region();
  window_base_ = nullptr;
  window_start_ = window_end_ = 0;
}

void DataView::forget_pages_before(std::uint64_t offset) noexcept {
  if (window_base_ == nullptr || offset <= window_start_) return;
  const std::uint64_t length = (std::min(offset, window_end_) - window_start_) / format::kPageBytes * format::kPageBytes;
  // Zapping page table entries only; on a shared file mapping the data stays in the file.
  if (length != 0) ::madvise(window_base_, length, MADV_DONTNEED);
}

std::byte* DataView::slide_to(std::uint64_t offset, std::uint64_t length) noexcept {
  const std::uint64_t step = file_->view_step();
  const std::uint64_t capacity = file_->geometry().capacity;
  // Windows start at multiples of half a view and span a whole one, so a range no longer than
  // half a view always lies inside the window that starts at or below it. A longer one (a large
  // record) stretches the window to its end.
  const std::uint64_t start = offset / step * step;
  const std::uint64_t wanted_end = std::max(start + file_->view_bytes(), (offset + length + step - 1) / step * step);
  const std::uint64_t end = std::min(wanted_end, capacity);
  if (offset + length > end) return nullptr;
  try {
    region_ = bip::mapped_region(
        file_->mapping(), access_ == Access::read_write ? bip::read_write : bip::read_only,
        static_cast<bip::offset_t>(file_->info().data_offset + start), end - start);
  } catch (const bip::interprocess_exception&) {
    unmap();
    return nullptr;
  }
  // No fault readahead: ahead of a producer it would read back the old lap from disk (the very
  // thing the paging engine prevents), and a following consumer finds its pages in memory. A
  // replaying consumer asks for readahead explicitly (POSIX_FADV_WILLNEED).
  region_.advise(bip::mapped_region::advice_random);
  window_base_ = static_cast<std::byte*>(region_.get_address());
  window_start_ = start;
  window_end_ = end;
  return window_base_ + (offset - start);
}

}  // namespace ringfile::detail
