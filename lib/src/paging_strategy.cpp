// The paging strategy of a new ring: what the filesystem supports, and which rings automatic
// paging leaves resident whole (paging.hpp).
#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/magic.h>
#include <sys/statfs.h>

#include <algorithm>

#include "memory_budget.hpp"
#include "paging.hpp"

namespace ringfile::detail {
namespace {

constexpr std::uint64_t kSmallRingBytes = 512 * kMiB;
// A ring kept whole in memory may take an eighth of the rings' share of it (memory_budget.hpp):
// at a quarter, twelve rings of 24 MiB in a 256 MiB box were left whole and fell from 0.22 GB/s
// to 0.035 after the wrap, where paging kept them at 0.13-0.17 (bench/README.md). Together the
// rings kept whole may take half that share (whole_rings_allowance).
constexpr std::uint64_t kRingsKeptWholeSharing = 8;

bool fallocate_supported(int fd, int mode) noexcept {
  // The last page of the header segment is reserved and always zero: a safe place to probe,
  // before the header is written.
  const off_t probe = static_cast<off_t>(format::kHeaderSegmentBytes - format::kPageBytes);
  return ::fallocate(fd, mode | FALLOC_FL_KEEP_SIZE, probe, static_cast<off_t>(format::kPageBytes)) == 0;
}

}  // namespace

bool on_tmpfs(int fd) noexcept {
  struct statfs filesystem {};
  return ::fstatfs(fd, &filesystem) == 0 && static_cast<unsigned long>(filesystem.f_type) == TMPFS_MAGIC;
}

std::uint64_t largest_ring_kept_whole(std::uint64_t memory_bytes) noexcept {
  if (memory_bytes == 0) return kSmallRingBytes;  // memory unknown: the size alone decides
  return std::min(kSmallRingBytes, share_memory(memory_bytes, kRingsKeptWholeSharing).ring_bytes);
}

PagingStrategy resolve_paging_strategy(int fd, std::uint64_t capacity, PagingStrategy requested,
                                       std::uint64_t memory_bytes, std::uint64_t whole_bytes_open) {
  if (requested == PagingStrategy::automatic) {
    // tmpfs: the ring is memory, there is nothing to read back or drop. A small ring is best left
    // resident whole: invalidating pages still in memory only costs unmapping and refaulting them.
    // Small is weighed against the memory too: in a container of 256 MiB a ring of 128 MiB left
    // whole is evicted behind a lagging consumer and read back page by page after the wrap, and
    // so are many rings of 16 MiB left whole together.
    const bool fits_whole = capacity <= largest_ring_kept_whole(memory_bytes) &&
                            (memory_bytes == 0 || whole_bytes_open + capacity <= whole_rings_allowance(memory_bytes));
    if (on_tmpfs(fd) || fits_whole) return PagingStrategy::none;
    requested = PagingStrategy::zero_range;
  }
  if (requested == PagingStrategy::zero_range && !fallocate_supported(fd, FALLOC_FL_ZERO_RANGE)) {
    requested = PagingStrategy::punch_hole;
  }
  if (requested == PagingStrategy::punch_hole &&
      !(fallocate_supported(fd, FALLOC_FL_PUNCH_HOLE) && fallocate_supported(fd, 0))) {
    requested = PagingStrategy::prefetch_only;
  }
  return requested;
}

format::PagingStrategyCode to_code(PagingStrategy strategy) noexcept {
  switch (strategy) {
    case PagingStrategy::zero_range: return format::PagingStrategyCode::zero_range;
    case PagingStrategy::punch_hole: return format::PagingStrategyCode::punch_hole;
    case PagingStrategy::prefetch_only: return format::PagingStrategyCode::prefetch_only;
    case PagingStrategy::automatic:
    case PagingStrategy::none: break;
  }
  return format::PagingStrategyCode::none;
}

PagingStrategy from_code(format::PagingStrategyCode code) noexcept {
  switch (code) {
    case format::PagingStrategyCode::zero_range: return PagingStrategy::zero_range;
    case format::PagingStrategyCode::punch_hole: return PagingStrategy::punch_hole;
    case format::PagingStrategyCode::prefetch_only: return PagingStrategy::prefetch_only;
    case format::PagingStrategyCode::none: break;
  }
  return PagingStrategy::none;
}

}  // namespace ringfile::detail
