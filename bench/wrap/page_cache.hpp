// How much of a ring file sits in the page cache, and dropping it so each kind starts cold.
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::bench::wrap {

struct FileResidency {
  std::uint64_t resident_bytes = 0;
  // Known only from cachestat(2) (Linux 6.5+); mincore(2) tells residency alone.
  std::optional<std::uint64_t> dirty_bytes;
  std::optional<std::uint64_t> writeback_bytes;
};

// cachestat(2) over the whole file, else mincore(2) over a read-only mapping of it (which maps
// but never touches the pages, so it does not change what it measures). nullopt: neither worked.
std::optional<FileResidency> file_residency(int fd) noexcept;

// Bytes of [offset, offset + length) of the file that are in the page cache, the same way.
std::optional<std::uint64_t> cached_bytes(int fd, std::uint64_t offset,
                                          std::uint64_t length) noexcept;

// fsync, then POSIX_FADV_DONTNEED: clean pages can be dropped, dirty ones cannot. false: failed,
// errno set.
bool flush_and_drop_page_cache(int fd) noexcept;

}  // namespace ringfile::bench::wrap
