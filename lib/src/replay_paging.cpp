#include "replay_paging.hpp"

#include <fcntl.h>

#include <algorithm>

#include "atomics.hpp"
#include "paging.hpp"

namespace ringfile::detail {
namespace {

// How often the consumer looks where it stands, and the size of each read-ahead request. The
// kernel cuts a POSIX_FADV_WILLNEED to the device's readahead or request size (whichever is
// larger; 128 KiB to a few MiB): asked for in 1 MiB pieces, every byte is read.
constexpr std::uint64_t kStepBytes = 1 << 20;
// Enough requests in flight to keep a disk busy while the consumer works through what came in,
// little enough that it is never evicted before it is read.
constexpr std::uint64_t kMostReadAheadBytes = 16 << 20;
// At most this share of the ring's resident budget: what is read ahead pushes other pages out,
// and with many rings in little memory those may be pages still cached and not yet read.
constexpr std::uint64_t kReadAheadBudgetShare = 8;

std::uint64_t round_down(std::uint64_t value, std::uint64_t unit) noexcept { return value / unit * unit; }

}  // namespace

ReplayPaging::ReplayPaging(const RingFile& file) noexcept
    : file_(file),
      engine_runs_(file.info().paging != PagingStrategy::none),
      most_read_ahead_bytes_(std::clamp(minimum_resident_budget(file) / 4, 2 * kStepBytes, kMostReadAheadBytes)),
      read_ahead_bytes_(most_read_ahead_bytes_) {}

void ReplayPaging::step(std::uint64_t position, DataView& view) noexcept {
  next_step_ = round_down(position, kStepBytes) + kStepBytes;
  if (!engine_runs_) return;  // the kernel manages the ring's pages; nothing is dropped early
  const auto& header = file_.header();
  // Acquire: pairs with the release frontier's CAS, made before the pages below it are dropped.
  const std::uint64_t released = load_field(header.released_position.value, std::memory_order_acquire);
  const std::uint64_t head = load_field(header.head_position.value, std::memory_order_acquire);
  // Relaxed: the budget is advisory (publish_budget); 0 until a producer has published one.
  const std::uint64_t budget = load_field(header.paging_budget.resident_budget_bytes, std::memory_order_relaxed);
  if (budget != 0) {
    read_ahead_bytes_ = std::clamp(std::min(most_read_ahead_bytes_, budget / kReadAheadBudgetShare), 2 * kStepBytes,
                                   most_read_ahead_bytes_);
  }
  const std::uint64_t last = previous_;
  previous_ = position;
  if (position < last || position > read_ahead_until_ + read_ahead_bytes_) {
    // Moved back (a new start) or skipped far ahead (lapped): nothing read lies behind.
    dropped_until_ = read_ahead_until_ = round_down(position, format::kPageBytes);
  }
  // Behind: what was read from below the release frontier goes again (the engine has passed
  // it, nobody else will drop it); everything up to the step we are in has been returned.
  replaying_ = position < released;
  drop_read_until(std::min(round_down(position, kStepBytes), released), view);
  // Ahead: keep read_ahead_bytes_ asked for, in request-sized pieces. Above the frontier too:
  // pages there are normally in memory, and then asking costs a lookup per page; but memory
  // pressure or a dropped cache may have evicted them.
  const std::uint64_t wanted = std::min(position + read_ahead_bytes_, head);
  std::uint64_t from = std::max(read_ahead_until_, round_down(position, format::kPageBytes));
  while (from < wanted) {
    const std::uint64_t end = std::min(wanted, round_down(from, kStepBytes) + kStepBytes);
    for_each_file_range(file_, from, end, [&](std::uint64_t offset, std::uint64_t length) {
      ::posix_fadvise(file_.fd(), static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_WILLNEED);
    });
    from = end;
  }
  read_ahead_until_ = std::max(read_ahead_until_, wanted);
}

void ReplayPaging::drop_read_until(std::uint64_t end, DataView& view) noexcept {
  if (end <= dropped_until_) return;
  const Geometry& geometry = file_.geometry();
  // Our own view maps some of those pages, and mapped pages are never dropped. The view holds
  // the lap of `previous_` (the caller has just read there); an earlier lap's pages are unmapped.
  if (geometry.lap_of(end) == geometry.lap_of(previous_)) view.forget_pages_before(geometry.offset_of(end));
  const std::uint64_t start = std::max(dropped_until_, end > geometry.capacity ? end - geometry.capacity : 0);
  for_each_file_range(file_, start, end, [&](std::uint64_t offset, std::uint64_t length) {
    ::posix_fadvise(file_.fd(), static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_DONTNEED);
  });
  dropped_until_ = end;
}

}  // namespace ringfile::detail
