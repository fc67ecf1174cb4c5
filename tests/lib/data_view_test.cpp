// Data views: on tmpfs, the page tables ahead of the last access are filled, so that small
// records do not fault page by page; on a disk, nothing ahead is touched.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdint>

#include "data_view.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kView = 4 << 20;

bool on_tmpfs(const std::filesystem::path& path) {
  struct statfs filesystem {};
  return ::statfs(path.c_str(), &filesystem) == 0 && static_cast<unsigned long>(filesystem.f_type) == TMPFS_MAGIC;
}

// Whether this process's page tables map the page at `address` (bit 63 of its /proc/self/pagemap
// entry; readable without privileges, unlike the frame numbers).
bool page_mapped(const std::byte* address) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::uint64_t entry = 0;
  const auto index = reinterpret_cast<std::uintptr_t>(address) / kPage;
  const ssize_t got = ::pread(fd, &entry, sizeof entry, static_cast<off_t>(index * sizeof entry));
  ::close(fd);
  REQUIRE(got == static_cast<ssize_t>(sizeof entry));
  return (entry >> 63) != 0;
}

// Pages of [from, to) of the view, counted from the address of data-area offset 0.
int mapped_pages(const std::byte* base, std::uint64_t from, std::uint64_t to) {
  int mapped = 0;
  for (std::uint64_t offset = from; offset < to; offset += kPage) mapped += page_mapped(base + offset) ? 1 : 0;
  return mapped;
}

// Writes the whole data area once, so that every page of the file exists in the page cache.
void fill_file(const Ring& ring) {
  const detail::RingFile& file = detail::file_of(ring);
  const std::vector<std::byte> zeros(1 << 20);
  for (std::uint64_t offset = 0; offset < file.geometry().capacity; offset += zeros.size()) {
    REQUIRE(::pwrite(file.fd(), zeros.data(), zeros.size(), static_cast<off_t>(file.info().data_offset + offset)) ==
            static_cast<ssize_t>(zeros.size()));
  }
}

}  // namespace

TEST_CASE("data view on tmpfs: the page tables ahead of an access are filled, within the window") {
  if (!on_tmpfs("/dev/shm")) {
    MESSAGE("skipped: /dev/shm is not tmpfs");
    return;
  }
  TempDir dir("/dev/shm");
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20), {.view_bytes = kView});
  fill_file(ring);
  const detail::RingFile& file = detail::file_of(ring);
  REQUIRE(file.memory_backed());
  for (const auto access : {detail::DataView::Access::read_only, detail::DataView::Access::read_write}) {
    CAPTURE(static_cast<int>(access));
    detail::DataView view(file, access);
    const std::byte* base = view.at(0, 64);
    REQUIRE(base != nullptr);
    // Filled ahead: the pages after the first access, untouched by this test.
    CHECK(mapped_pages(base, kPage, 128 * 1024) == 31);
    // Not the whole window at once: filling 4 MiB would stall one access for milliseconds.
    CHECK(mapped_pages(base, 2 << 20, kView) == 0);
    // Moving on fills further ahead.
    REQUIRE(view.at(1 << 20, 64) == base + (1 << 20));
    CHECK(mapped_pages(base, (1 << 20) + kPage, (1 << 20) + 128 * 1024) == 31);
  }
}

TEST_CASE("data view on a disk: nothing ahead of an access is mapped") {
  TempDir dir;
  if (on_tmpfs(dir.path())) {
    MESSAGE("skipped: the temporary directory is on tmpfs");
    return;
  }
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20), {.view_bytes = kView});
  fill_file(ring);
  const detail::RingFile& file = detail::file_of(ring);
  REQUIRE_FALSE(file.memory_backed());
  detail::DataView view(file, detail::DataView::Access::read_write);
  const std::byte* base = view.at(0, 64);
  REQUIRE(base != nullptr);
  // A write fault maps its own page only (and the view asks for no readahead): filling ahead here
  // would read the old lap back from the disk.
  CHECK(mapped_pages(base, kPage, 256 * 1024) == 0);
}
