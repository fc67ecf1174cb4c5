#include "data_view.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace ringfile::detail {

namespace bip = boost::interprocess;

namespace {
// How far ahead of the last access a memory-backed view's page tables are filled, and how
// much is filled at a time (half of it): 32 pages per madvise.
constexpr std::uint64_t kPopulateAheadBytes = 256 * 1024;
// Off once the kernel refuses MADV_POPULATE_* (before Linux 5.14): faults then fill the tables.
std::atomic<bool> populate_supported{true};
}  // namespace

DataView::DataView(const RingFile& file, Access access) noexcept : file_(&file), access_(access) {}

void DataView::unmap() noexcept {
  region_ = bip::mapped_region();
  window_base_ = nullptr;
  window_start_ = window_end_ = 0;
  populate_mark_ = ~std::uint64_t{0};
}

// Filling page tables ahead, on a ring on tmpfs. Without it, the first access to each page of a
// fresh window faults (a write fault per 4 KiB page for a producer, one per 16 pages with the
// kernel's fault-around for a consumer): with records of 64 bytes one record in a hundred or so
// paid a fault of microseconds, which set the 99th percentile of a ping-pong (5.7-7.3 us against
// 1.4-1.6 us with the tables filled). The pages are in memory already, so filling maps them and
// reads nothing; on a disk the same would read the old lap back, which is why it is tmpfs only.
void DataView::populate_ahead(std::uint64_t end) noexcept {
  const std::uint64_t from = std::max(populated_end_, window_start_);
  const std::uint64_t to = std::min(window_end_, (end + kPopulateAheadBytes) / format::kPageBytes * format::kPageBytes);
  // Relaxed: a hint shared by the views of the process; a stale true costs one refused call.
  if (to > from && populate_supported.load(std::memory_order_relaxed)) {
    const int advice = access_ == Access::read_write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    if (::madvise(window_base_ + (from - window_start_), to - from, advice) != 0 && errno == EINVAL) {
      populate_supported.store(false, std::memory_order_relaxed);
    }
  }
  populated_end_ = std::max(to, from);
  populate_mark_ = populated_end_ >= window_end_ ? ~std::uint64_t{0} : populated_end_ - kPopulateAheadBytes / 2;
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
  populated_end_ = start;
  populate_mark_ = ~std::uint64_t{0};
  if (file_->memory_backed()) populate_ahead(offset + length);
  return window_base_ + (offset - start);
}

}  // namespace ringfile::detail
