// Data views: on tmpfs, the page tables ahead of the last access are filled, so that small
// records do not fault page by page, and a view holding the whole data area is filled whole as its
// producer or consumer attaches; on a disk, nothing ahead is touched. Over any slide, every offset
// shows its own bytes.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <ringfile/consumer.hpp>
#include <ringfile/producer.hpp>

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

// Whether the tests that need a ring on tmpfs can make one in /dev/shm; says so when not.
bool shm_is_tmpfs() {
  if (on_tmpfs("/dev/shm")) return true;
  MESSAGE("skipped: /dev/shm is not tmpfs");
  return false;
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

// The mappings of `path` in this process of exactly `bytes`, and how many of them have all their
// pages resident in this process's page tables (the Rss of /proc/self/smaps).
struct WholeMappings {
  int count = 0;
  int all_resident = 0;
  int all_referenced = 0;  // every page accessed since the last clear_accessed_bits()
};
WholeMappings mappings_of(const std::filesystem::path& path, std::uint64_t bytes) {
  std::ifstream smaps("/proc/self/smaps");
  REQUIRE(smaps.good());
  WholeMappings found;
  bool counting = false;
  std::string line;
  while (std::getline(smaps, line)) {
    std::istringstream fields(line);
    std::string first;
    fields >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {  // a mapping's own line
      std::string permissions, offset, device, inode, name;
      fields >> permissions >> offset >> device >> inode >> name;
      const auto dash = first.find('-');
      const std::uint64_t size =
          std::stoull(first.substr(dash + 1), nullptr, 16) - std::stoull(first.substr(0, dash), nullptr, 16);
      counting = name == path.string() && size == bytes;
      if (counting) found.count += 1;
    } else if (counting && first == "Rss:") {
      std::uint64_t kib = 0;
      fields >> kib;
      if (kib * 1024 == bytes) found.all_resident += 1;
    } else if (counting && first == "Referenced:") {
      std::uint64_t kib = 0;
      fields >> kib;
      if (kib * 1024 == bytes) found.all_referenced += 1;
    }
  }
  return found;
}

// Clears the accessed bits of this process's pages (smaps' Referenced then counts only pages
// accessed after this). Writing "1" to one's own clear_refs needs no privilege.
void clear_accessed_bits() {
  std::ofstream clear_refs("/proc/self/clear_refs");
  clear_refs << "1";
  clear_refs.flush();
  REQUIRE(clear_refs.good());
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

TEST_CASE("data view on tmpfs: the page tables ahead of an access are filled, within the window, and kept over a slide") {
  if (!shm_is_tmpfs()) return;
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
    // Pages of the window's second half, filled ahead of an access there, stay mapped when a
    // record across the window's end (as a reader or writer moving on meets one at almost every
    // window) takes the view to the next window, [kView / 2, 3 kView / 2).
    const std::uint64_t shared = 3 * kView / 4;
    REQUIRE(view.at(shared, 64) == base + shared);
    REQUIRE(mapped_pages(base, shared + kPage, shared + 128 * 1024) == 31);
    REQUIRE(view.at(kView - 32, 64) != nullptr);
    const std::byte* after = view.at(shared, 64);  // inside the new window: nothing mapped
    REQUIRE(after != nullptr);
    // (A window mapped afresh would show them mapped too, filled again from its start: that
    // costs time, not correctness; ringfile-bench-throughput --sizes 4K shows the difference.)
    CHECK(mapped_pages(after - shared, shared + kPage, shared + 128 * 1024) == 31);
  }
}

TEST_CASE("data view on tmpfs, default size: a small ring's data area is one window, its page tables kept over the wrap") {
  if (!shm_is_tmpfs()) return;
  TempDir dir("/dev/shm");
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20));
  fill_file(ring);
  const detail::RingFile& file = detail::file_of(ring);
  const std::uint64_t capacity = file.geometry().capacity;
  REQUIRE(file.view_bytes() >= capacity);
  detail::DataView view(file, detail::DataView::Access::read_write);
  // First in the second half (a consumer attaching there), so that the window starts at 0 only
  // if the view maps the whole area from its start.
  const std::uint64_t first = capacity / 2 + 64 * kPage;
  const std::byte* first_address = view.at(first, 64);
  REQUIRE(first_address != nullptr);
  const std::byte* base = first_address - first;
  CHECK(view.mapped_bytes() == capacity);
  // A lap through the ring, then the wrap: every offset in the same window, never mapped again.
  for (std::uint64_t offset = 0; offset + 64 <= capacity; offset += 64 * kPage) {
    REQUIRE(view.at(offset, 64) == base + offset);
  }
  REQUIRE(view.at(capacity - 64, 64) == base + capacity - 64);
  CHECK(view.mapped_bytes() == capacity);
  REQUIRE(view.at(0, 64) == base);
  // Filled in the first lap and still there after the wrap: the next lap faults nothing.
  CHECK(mapped_pages(base, capacity / 2, capacity / 2 + 128 * 1024) == 32);
}

// A fresh ring of 8 MiB in /dev/shm (its pages never touched), which one view holds whole.
struct WholeAreaRing {
  TempDir dir{"/dev/shm"};
  const Ring ring = Ring::create(dir / "ring", small_ring(8 << 20));
  const detail::RingFile& file = detail::file_of(ring);
  const std::uint64_t capacity = file.geometry().capacity;
  const std::filesystem::path path = std::filesystem::canonical(dir / "ring");
  WholeAreaRing() { REQUIRE(file.view_bytes() >= capacity); }
};

TEST_CASE("data view on tmpfs holding the whole data area: all its page tables filled at once, on request") {
  if (!shm_is_tmpfs()) return;
  const WholeAreaRing whole;
  const detail::RingFile& file = whole.file;
  const std::uint64_t capacity = whole.capacity;
  for (const auto use : {detail::DataView::Use::reading, detail::DataView::Use::writing}) {
    CAPTURE(static_cast<int>(use));
    detail::DataView view(file, detail::DataView::Access::read_write, use);
    view.fill_whole_area(false);
    CHECK(view.mapped_bytes() == capacity);
    CHECK(view.window_start() == 0);
    const std::byte* base = view.at(0, 64);
    REQUIRE(base != nullptr);
    CHECK(mapped_pages(base, 0, capacity) == static_cast<int>(capacity / kPage));
    // Filled for good: a second request maps nothing again.
    view.fill_whole_area(false);
    CHECK(view.at(0, 64) == base);
  }
}

TEST_CASE("data view on tmpfs: a producer and a consumer fill their whole-area views as they attach") {
  if (!shm_is_tmpfs()) return;
  const WholeAreaRing whole;
  const Ring& ring = whole.ring;
  const std::filesystem::path& path = whole.path;
  const std::uint64_t capacity = whole.capacity;
  CHECK(mappings_of(path, capacity).count == 0);
  const Producer producer(ring);
  WholeMappings mapped = mappings_of(path, capacity);
  CHECK(mapped.count == 1);
  CHECK(mapped.all_resident == 1);
  const Consumer consumer = Consumer::attach(ring);
  mapped = mappings_of(path, capacity);
  CHECK(mapped.count == 2);
  CHECK(mapped.all_resident == 2);
}

TEST_CASE("data view on tmpfs holding the whole data area: pre-touched, every page is read once after the fill") {
  if (!shm_is_tmpfs()) return;
  const WholeAreaRing whole;
  detail::DataView view(whole.file, detail::DataView::Access::read_write, detail::DataView::Use::writing);
  view.fill_whole_area(false);
  REQUIRE(mappings_of(whole.path, whole.capacity).all_resident == 1);
  clear_accessed_bits();
  // Filled already: asked again without touching, it reads nothing; with, every page.
  view.fill_whole_area(false);
  CHECK(mappings_of(whole.path, whole.capacity).all_referenced == 0);
  view.fill_whole_area(true);
  CHECK(mappings_of(whole.path, whole.capacity).all_referenced == 1);
}

TEST_CASE("data view on a disk: asked to fill the whole data area, it maps nothing") {
  TempDir dir;
  if (on_tmpfs(dir.path())) {
    MESSAGE("skipped: the temporary directory is on tmpfs");
    return;
  }
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20), {.view_bytes = 32 << 20});
  const detail::RingFile& file = detail::file_of(ring);
  REQUIRE(file.view_bytes() >= file.geometry().capacity);
  detail::DataView view(file, detail::DataView::Access::read_write);
  view.fill_whole_area(false);
  CHECK(view.mapped_bytes() == 0);
}

TEST_CASE("data view, default size: a ring on a disk is seen through sliding views of 8 MiB") {
  TempDir dir;
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20));
  if (detail::file_of(ring).memory_backed()) {
    MESSAGE("skipped: the temporary directory is on tmpfs");
    return;
  }
  CHECK(detail::file_of(ring).view_bytes() == (8 << 20));
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

TEST_CASE("data view sliding over two laps: every offset shows its own bytes, in windows of any kind") {
  TempDir dir;
  const Ring ring = Ring::create(dir / "ring", small_ring(16 << 20), {.view_bytes = kView});
  const detail::RingFile& file = detail::file_of(ring);
  const std::uint64_t capacity = file.geometry().capacity;
  // Each 8-byte word of the data area holds its own offset.
  {
    std::vector<std::uint64_t> words(capacity / sizeof(std::uint64_t));
    for (std::uint64_t index = 0; index < words.size(); ++index) words[index] = index * sizeof(std::uint64_t);
    REQUIRE(::pwrite(file.fd(), words.data(), capacity, static_cast<off_t>(file.info().data_offset)) ==
            static_cast<ssize_t>(capacity));
  }
  const auto word_at = [](const std::byte* address) {
    std::uint64_t word = 0;
    std::memcpy(&word, address, sizeof word);
    return word;
  };
  for (const auto access : {detail::DataView::Access::read_only, detail::DataView::Access::read_write}) {
    CAPTURE(static_cast<int>(access));
    detail::DataView view(file, access);
    // Steps that cross every window boundary (with ranges across a window's end), a stretched
    // window (a range longer than half a view) now and then, and the wrap back to offset 0.
    for (int lap = 0; lap < 2; ++lap) {
      for (std::uint64_t offset = 0; offset + 64 <= capacity; offset += 40 * kPage + 8) {
        const std::uint64_t length = offset % (7 * kView / 2) < 41 * kPage ? std::min(kView, capacity - offset) : 64;
        const std::byte* address = view.at(offset, length);
        REQUIRE(address != nullptr);
        CHECK(word_at(address) == offset);
        CHECK(word_at(address + length - 8) == offset + length - 8);
      }
    }
  }
}
