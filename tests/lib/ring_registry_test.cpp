// The ring registry: the rings open on the machine, counted by whether the paging engine works on
// them or they are kept whole in memory (then by their capacity), each ring once however many
// processes hold it, and nothing a closed or crashed holder left behind.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "memory_budget.hpp"
#include "paging.hpp"
#include "ring_registry.hpp"
#include "support/memory_box.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;
using detail::OpenRings;
using detail::RingRegistration;

namespace {

// A file standing in for a ring: the registry knows a ring by its device and inode only.
class StandIn {
 public:
  explicit StandIn(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600)) {
    REQUIRE(fd_ >= 0);
  }
  ~StandIn() { ::close(fd_); }
  StandIn(const StandIn&) = delete;
  StandIn& operator=(const StandIn&) = delete;
  int fd() const noexcept { return fd_; }

  // The registry entry's name for this file, as ring_registry.cpp makes it.
  std::string entry_name() const {
    struct stat status {};
    REQUIRE(::fstat(fd_, &status) == 0);
    char name[64];
    std::snprintf(name, sizeof name, "%llx-%llx", static_cast<unsigned long long>(status.st_dev),
                  static_cast<unsigned long long>(status.st_ino));
    return name;
  }

 private:
  int fd_;
};

}  // namespace

TEST_CASE("ring registry: rings the engine works on by number, rings kept whole by their bytes, each once") {
  TempDir dir;
  PrivateRingRegistry registry(dir / "registry");
  CHECK(RingRegistration::open_rings().paged == 0);
  CHECK(RingRegistration::open_rings().whole_bytes == 0);
  StandIn paged_ring(dir / "paged");
  StandIn whole_ring(dir / "whole");
  StandIn other_whole_ring(dir / "other");
  {
    const RingRegistration paged(paged_ring.fd());
    const RingRegistration whole(whole_ring.fd(), 8 * kMiB);
    const RingRegistration whole_again(whole_ring.fd(), 8 * kMiB);  // a second holder of the same ring
    const RingRegistration other(other_whole_ring.fd(), 16 * kMiB);
    const OpenRings open = RingRegistration::open_rings();
    CHECK(open.paged == 1);
    CHECK(open.whole_bytes == 24 * kMiB);
  }
  // Closed: the entries are left over, and the next count removes them.
  const OpenRings after = RingRegistration::open_rings();
  CHECK(after.paged == 0);
  CHECK(after.whole_bytes == 0);
  CHECK(std::filesystem::is_empty(dir / "registry"));
}

TEST_CASE("ring registry: an entry's content is untrusted and rewritten by whoever registers") {
  TempDir dir;
  PrivateRingRegistry registry(dir / "registry");
  StandIn ring(dir / "ring");
  std::filesystem::create_directories(dir / "registry");
  const auto entry = dir / "registry" / ring.entry_name();
  // A left-over entry of a ring kept whole whose inode this ring now has.
  {
    const int fd = ::open(entry.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    REQUIRE(fd >= 0);
    const std::uint64_t stale = 8 * kMiB;
    REQUIRE(::pwrite(fd, &stale, sizeof stale, 0) == static_cast<ssize_t>(sizeof stale));
    ::close(fd);
  }
  {
    const RingRegistration paged(ring.fd());
    const OpenRings open = RingRegistration::open_rings();
    CHECK(open.paged == 1);
    CHECK(open.whole_bytes == 0);
  }
  // Another user's process holds an entry claiming more bytes than any ring has.
  const auto forged = dir / "registry" / "forged";
  const int fd = ::open(forged.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  REQUIRE(fd >= 0);
  const std::uint64_t huge = ~std::uint64_t{0};
  REQUIRE(::pwrite(fd, &huge, sizeof huge, 0) == static_cast<ssize_t>(sizeof huge));
  REQUIRE(::flock(fd, LOCK_SH) == 0);
  const OpenRings open = RingRegistration::open_rings();
  CHECK(open.whole_bytes <= std::uint64_t{1} << 40);
  CHECK(detail::share_memory(256 * kMiB, 1, open.whole_bytes).ring_bytes > 63 * kMiB);  // half the rings' share stays
  ::close(fd);
}

TEST_CASE("ring registry: what another process puts in the directory is skipped, never waited on") {
  TempDir dir;
  PrivateRingRegistry registry(dir / "registry");
  std::filesystem::create_directories(dir / "registry");
  // Anyone may write the directory: a FIFO there would block an open for reading until a writer
  // came, and a link could send a registration's writes to any file its owner may write.
  REQUIRE(::mkfifo((dir / "registry" / "fifo").c_str(), 0666) == 0);
  StandIn target(dir / "target");
  const std::uint64_t target_bytes = 0x1234;
  REQUIRE(::pwrite(target.fd(), &target_bytes, sizeof target_bytes, 0) == static_cast<ssize_t>(sizeof target_bytes));
  StandIn ring(dir / "ring");
  std::filesystem::create_symlink(dir / "target", dir / "registry" / ring.entry_name());
  REQUIRE(::flock(target.fd(), LOCK_SH) == 0);  // as a holder of a real entry would

  const RingRegistration paged(ring.fd());
  const OpenRings open = RingRegistration::open_rings();  // returns: the FIFO is not opened for good
  CHECK(open.paged == 0);  // the link is neither followed for the count nor taken as this ring's entry
  CHECK(open.whole_bytes == 0);
  std::uint64_t still = 0;
  REQUIRE(::pread(target.fd(), &still, sizeof still, 0) == static_cast<ssize_t>(sizeof still));
  CHECK(still == target_bytes);
  CHECK(std::filesystem::is_fifo(dir / "registry" / "fifo"));
}

TEST_CASE("ring registry: a ring on disk without paging counts while it is open for writing") {
  TempDir dir;
  PrivateRingRegistry registry(dir / "registry");
  CreateOptions options;
  options.capacity_bytes = 4 * kMiB;
  options.paging = PagingStrategy::none;
  const auto path = dir / "whole.ring";
  const bool on_tmpfs = detail::on_tmpfs(StandIn(dir / "probe").fd());
  {
    const Ring ring = Ring::create(path, options);
    const OpenRings open = RingRegistration::open_rings();
    if (on_tmpfs) {
      // There the ring is memory that the cgroup and MemAvailable count already.
      CHECK(open.whole_bytes == 0);
      MESSAGE("on tmpfs (" << dir.path() << "): rings on disk not checked");
      return;
    }
    CHECK(open.whole_bytes == 4 * kMiB);
    CHECK(open.paged == 0);
    const Ring reader = Ring::open(path, {.read_only = true});
    CHECK(RingRegistration::open_rings().whole_bytes == 4 * kMiB);
    // A ring the engine works on, beside it: its producer publishes what came off the memory.
    CreateOptions paged_options;
    paged_options.capacity_bytes = 4 * kMiB;
    paged_options.paging = PagingStrategy::prefetch_only;  // works on every filesystem
    const Ring paged = Ring::create(dir / "paged.ring", paged_options);
    {
      Producer producer(paged);
      const PagingState state = paged.paging_state();
      CHECK(state.rings_sharing == 1);
      CHECK(state.whole_rings_bytes == 4 * kMiB);
      CHECK(state.resident_budget_bytes > 0);
      CHECK(RingRegistration::open_rings().paged == 1);
    }
  }
  CHECK(RingRegistration::open_rings().whole_bytes == 0);
  // Opened read-only only, as ringfile-status does: not counted (nothing it writes stays).
  const Ring status_view = Ring::open(path, {.read_only = true});
  CHECK(RingRegistration::open_rings().whole_bytes == 0);
}

TEST_CASE("memory budget: rings kept whole come off the rings' share, up to half of it") {
  constexpr std::uint64_t memory = 1000 * kMiB;  // the rings' share: 500 MiB
  CHECK(detail::whole_rings_allowance(memory) == 250 * kMiB);
  CHECK(detail::share_memory(memory, 4).ring_bytes == 125 * kMiB);
  CHECK(detail::share_memory(memory, 4, 100 * kMiB).ring_bytes == 100 * kMiB);
  CHECK(detail::share_memory(memory, 4, 250 * kMiB).ring_bytes == 250 * kMiB / 4);
  // Rings made without paging past the allowance: the engine's rings keep the other half.
  CHECK(detail::share_memory(memory, 4, 4000 * kMiB).ring_bytes == 250 * kMiB / 4);
}
