#include "ringfile/system/page_cache.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace ringfile::system {

namespace {

// Debian bookworm's kernel headers (6.1) predate cachestat; the number is the same on every
// architecture that has it.
constexpr long kCachestatSyscall = 451;

struct CachestatRange {
  std::uint64_t offset;
  std::uint64_t length;  // 0: to the end of the file
};

struct Cachestat {
  std::uint64_t cached_pages;
  std::uint64_t dirty_pages;
  std::uint64_t writeback_pages;
  std::uint64_t evicted_pages;
  std::uint64_t recently_evicted_pages;
};

std::uint64_t page_bytes() noexcept { return static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)); }

// [offset, offset + length) of the file; length 0: to the end of the file.
std::optional<FileResidency> residency_from_cachestat(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  CachestatRange range{offset, length};
  Cachestat stat{};
  if (::syscall(kCachestatSyscall, fd, &range, &stat, 0) != 0) return std::nullopt;
  FileResidency residency;
  residency.resident_bytes = stat.cached_pages * page_bytes();
  residency.dirty_bytes = stat.dirty_pages * page_bytes();
  residency.writeback_bytes = stat.writeback_pages * page_bytes();
  return residency;
}

std::optional<FileResidency> residency_from_mincore(int fd, std::uint64_t offset, std::uint64_t length,
                                                    std::uint64_t max_mapping_bytes) noexcept {
  struct stat file_status {};
  if (::fstat(fd, &file_status) != 0) return std::nullopt;
  const auto file_bytes = static_cast<std::uint64_t>(file_status.st_size);
  const std::uint64_t end = length == 0 ? file_bytes : std::min(file_bytes, offset + length);
  const std::uint64_t piece_limit = std::max(page_bytes(), max_mapping_bytes - max_mapping_bytes % page_bytes());
  FileResidency residency;
  std::vector<unsigned char> page_flags;
  for (std::uint64_t piece_offset = offset - offset % page_bytes(); piece_offset < end; piece_offset += piece_limit) {
    const std::uint64_t piece_bytes = std::min(piece_limit, end - piece_offset);
    void* const piece = ::mmap(nullptr, piece_bytes, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(piece_offset));
    if (piece == MAP_FAILED) return std::nullopt;
    page_flags.assign((piece_bytes + page_bytes() - 1) / page_bytes(), 0);
    const int status = ::mincore(piece, piece_bytes, page_flags.data());
    ::munmap(piece, piece_bytes);
    if (status != 0) return std::nullopt;
    for (const unsigned char flags : page_flags) {
      if (flags & 1u) residency.resident_bytes += page_bytes();
    }
  }
  return residency;
}

}  // namespace

std::optional<FileResidency> file_residency(int fd, std::uint64_t max_mapping_bytes) noexcept {
  if (auto residency = residency_from_cachestat(fd, 0, 0)) return residency;
  return residency_from_mincore(fd, 0, 0, max_mapping_bytes);
}

std::optional<std::uint64_t> cached_bytes(int fd, std::uint64_t offset, std::uint64_t length) noexcept {
  if (length == 0) return 0;
  auto residency = residency_from_cachestat(fd, offset, length);
  if (!residency) residency = residency_from_mincore(fd, offset, length, kDefaultResidencyMappingBytes);
  if (!residency) return std::nullopt;
  // Whole pages are counted: never more than the range itself.
  return std::min(residency->resident_bytes, length);
}

bool flush_and_drop_page_cache(int fd) noexcept {
  if (::fsync(fd) != 0) return false;
  const int advice_error = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  if (advice_error != 0) {
    errno = advice_error;
    return false;
  }
  return true;
}

}  // namespace ringfile::system
