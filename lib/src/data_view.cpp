#include "data_view.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include "atomics.hpp"

namespace ringfile::detail {

// Windows are mapped at file offset data_offset + start, start a multiple of half a view.
static_assert(format::kHeaderSegmentBytes % format::kPageBytes == 0);

namespace {
// How far ahead of the last access a memory-backed view's page tables are filled, and how
// much is filled at a time (half of it): 32 pages per madvise.
constexpr std::uint64_t kPopulateAheadBytes = 256 * 1024;
// Off once the kernel refuses MADV_POPULATE_* (before Linux 5.14): faults then fill the tables.
std::atomic<bool> populate_supported{true};
}  // namespace

DataView::DataView(const RingFile& file, Access access, Use use) noexcept : file_(&file), access_(access), use_(use) {}

void DataView::unmap() noexcept {
  if (window_base_ != nullptr) ::munmap(window_base_, window_end_ - window_start_);
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
    // For reading, the kernel maps 16 pages per fault (fault-around); for writing, one, and marks
    // it dirty: a consumer's read-write view filled for writing cost it as much as the producer.
    const int advice = use_ == Use::writing ? MADV_POPULATE_WRITE : MADV_POPULATE_READ;
    if (::madvise(window_base_ + (from - window_start_), to - from, advice) != 0 && errno == EINVAL) {
      populate_supported.store(false, std::memory_order_relaxed);
    }
  }
  populated_end_ = std::max(to, from);
  populate_mark_ = populated_end_ >= window_end_ ? ~std::uint64_t{0} : populated_end_ - kPopulateAheadBytes / 2;
}

void DataView::fill_whole_area(bool touch_each_page) noexcept {
  const std::uint64_t capacity = file_->geometry().capacity;
  if (!file_->memory_backed() || file_->view_bytes() < capacity) return;
  // One madvise over the lot: at attach a stall of milliseconds (measured here: 60-90 ms for
  // 256 MiB filled for writing, 22 ms for reading) is paid once, where the first lap would pay
  // it in pieces.
  if (window_base_ == nullptr && slide_to(0, 0) == nullptr) return;
  populate_ahead(capacity);
  if (!touch_each_page) return;
  // A filled table is not always the end of it: under a hypervisor that shadows the guest's page
  // tables (measured on a PVM guest), the first access to each page of a process still stops for
  // 9 us while the host maps it, filled or not. In a ping-pong of 64-byte records that was the
  // 99th percentile: 3.3 us with the tables filled, 0.54 us with each page read once beforehand.
  // Reading costs that much per page here, at attach (0.6 s for 256 MiB), and next to nothing
  // where the hardware walks the tables itself, hence an option. Relaxed: the value is not used;
  // a load of a byte a producer may be writing, atomic so that it is no data race.
  for (std::uint64_t offset = 0; offset < window_end_ - window_start_; offset += format::kPageBytes) {
    static_cast<void>(load_field(window_base_[offset], std::memory_order_relaxed));
  }
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
  // record) stretches the window to its end. A view that holds the whole data area maps it from
  // its start: one window for good, instead of two that replace each other twice a lap.
  const std::uint64_t start = file_->view_bytes() >= capacity ? 0 : offset / step * step;
  const std::uint64_t wanted_end = std::max(start + file_->view_bytes(), (offset + length + step - 1) / step * step);
  const std::uint64_t end = std::min(wanted_end, capacity);
  if (offset + length > end) return nullptr;
  if (!slide_forward(start, end) && !map_window(start, end)) return nullptr;
  if (file_->memory_backed()) populate_ahead(offset + length);
  return window_base_ + (offset - start);
}

// The usual slide: the next window of a reader or writer moving forward overlaps the current
// one by half a view. mremap keeps that half mapped, with its page tables filled, and extends it
// over the next half (moving it if the addresses after it are taken); then the half behind is
// unmapped. Mapping the new window afresh would fill each page's table entry twice per lap
// (once in each window that holds it) and tear it down twice: on a ring on tmpfs, with
// MADV_POPULATE filling ahead, that was 60% of a 4 KiB record's cost. False when the window is
// not a continuation of this one, or the kernel refuses (then the caller maps it afresh).
bool DataView::slide_forward(std::uint64_t start, std::uint64_t end) noexcept {
  if (window_base_ == nullptr || start <= window_start_ || start >= window_end_ || end <= window_end_) return false;
  std::byte* const kept = window_base_ + (start - window_start_);
  void* const moved = ::mremap(kept, window_end_ - start, end - start, MREMAP_MAYMOVE);
  if (moved == MAP_FAILED) return false;  // the current window is still whole
  ::munmap(window_base_, start - window_start_);
  window_base_ = static_cast<std::byte*>(moved);
  populated_end_ = std::clamp(populated_end_, start, window_end_);
  window_start_ = start;
  window_end_ = end;
  populate_mark_ = ~std::uint64_t{0};
  return true;
}

bool DataView::map_window(std::uint64_t start, std::uint64_t end) noexcept {
  unmap();
  const int protection = access_ == Access::read_write ? PROT_READ | PROT_WRITE : PROT_READ;
  void* const address = ::mmap(nullptr, end - start, protection, MAP_SHARED, file_->fd(),
                               static_cast<off_t>(file_->info().data_offset + start));
  if (address == MAP_FAILED) return false;  // out of address space or memory: try again later
  // No fault readahead: ahead of a producer it would read back the old lap from disk (the very
  // thing the paging engine prevents), and a following consumer finds its pages in memory. A
  // replaying consumer asks for readahead explicitly (POSIX_FADV_WILLNEED). A window extended by
  // slide_forward keeps the advice: it stays the same mapping.
  ::madvise(address, end - start, MADV_RANDOM);
  window_base_ = static_cast<std::byte*>(address);
  window_start_ = start;
  window_end_ = end;
  populated_end_ = start;
  populate_mark_ = ~std::uint64_t{0};
  return true;
}

}  // namespace ringfile::detail
