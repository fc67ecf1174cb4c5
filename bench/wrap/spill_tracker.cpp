#include "wrap/spill_tracker.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>

namespace ringfile::bench::wrap {
namespace {

std::uint64_t page_bytes() noexcept { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace

bool SpillTracker::start(int fd, std::uint64_t data_offset, std::uint64_t capacity, std::uint64_t cursor,
                         std::uint64_t head) {
  const std::uint64_t page = page_bytes();
  if (capacity == 0 || capacity % page != 0 || data_offset % page != 0) return false;
  // A mapping that is never touched costs no memory and reads nothing: mincore(2) of a shared
  // file mapping reports the file's page cache.
  void* mapping = ::mmap(nullptr, capacity, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(data_offset));
  if (mapping == MAP_FAILED) return false;
  cached_at_start_.assign(capacity / page, 0);
  const bool known = ::mincore(mapping, capacity, cached_at_start_.data()) == 0;
  ::munmap(mapping, capacity);
  if (!known) {
    cached_at_start_.clear();
    return false;
  }
  capacity_ = capacity;
  counted_until_ = cursor;
  end_ = head;
  return true;
}

void SpillTracker::observe(std::uint64_t position, std::uint64_t released) noexcept {
  if (cached_at_start_.empty()) return;
  const std::uint64_t page = page_bytes();
  const std::uint64_t from = std::max(position, counted_until_);
  const std::uint64_t until = std::min(released, end_);
  if (until <= from) return;
  // Whole pages, from the first one wholly ahead: the reader's own view maps the page it is in,
  // and mapped pages are not dropped.
  for (std::uint64_t at = (from + page - 1) / page * page; at < until; at += page) {
    if ((cached_at_start_[(at % capacity_) / page] & 1U) != 0) dropped_bytes_ += page;
  }
  counted_until_ = until;
}

}  // namespace ringfile::bench::wrap
