// How much of a file sits in the page cache, and dropping it: what Ring::residency reports and
// what the wrap benchmark measures, one way for both.
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::system {

struct FileResidency {
  std::uint64_t resident_bytes = 0;
  // Known only from cachestat(2) (Linux 6.5+); mincore(2) tells residency alone.
  std::optional<std::uint64_t> dirty_bytes;
  std::optional<std::uint64_t> writeback_bytes;
};

// On kernels without cachestat, mincore(2) is asked over read-only mappings of the file, at most
// this much at a time (so a ring of hundreds of GiB needs neither one huge mapping nor a huge
// vector). Those map but never touch the pages, so they do not change what they measure.
inline constexpr std::uint64_t kDefaultResidencyMappingBytes = 1ull << 30;

// cachestat(2) over the whole file, else mincore(2). nullopt: neither worked.
std::optional<FileResidency> file_residency(
    int fd, std::uint64_t max_mapping_bytes = kDefaultResidencyMappingBytes) noexcept;

// Bytes of [offset, offset + length) of the file that are in the page cache, the same way.
std::optional<std::uint64_t> cached_bytes(int fd, std::uint64_t offset, std::uint64_t length) noexcept;

// fsync, then POSIX_FADV_DONTNEED: clean pages can be dropped, dirty ones cannot. false: failed,
// errno set.
bool flush_and_drop_page_cache(int fd) noexcept;

}  // namespace ringfile::system
