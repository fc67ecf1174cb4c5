// The problem ringfile exists to solve, as a test (not timed): a ring larger than its memory
// limit runs three laps, and after the first the producer reads back (almost) nothing from disk,
// while the ring's resident bytes never exceed the bound of the paging engine.
#include <doctest/doctest.h>

#include <linux/magic.h>
#include <sys/statfs.h>

#include "support/child_process.hpp"
#include "support/children.hpp"
#include "support/memory_box.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

constexpr std::uint64_t kCapacity = 256 << 20;
constexpr std::uint64_t kMemoryLimit = 64 << 20;
// Filled through the mapping, where overwriting an old lap reads it back: claims of 64 KiB and
// more go through a buffer of the producer's own and pwrite(), which overwrites whole pages
// without reading them (and so would not show the problem the control below must show).
constexpr std::size_t kRecordBytes = 62500;

struct Lap {
  double written = 0;
  double read = 0;
  std::uint64_t resident = 0;
  std::uint64_t bound = 0;
};

// Runs `laps` laps of a fresh ring with `paging` in a child process inside `box`.
std::vector<Lap> run_laps(const MemoryBox& box, const TempDir& dir, PagingStrategy paging, int laps) {
  const auto path = dir / (paging == PagingStrategy::none ? "plain.ring" : "engine.ring");
  CreateOptions options = small_ring(kCapacity, WriterPolicy::block, 1 << 20);
  options.paging = paging;
  Ring ring = Ring::create(path, options);
  REQUIRE(ring.info().paging == paging);
  ChildProcess child("wrap-laps", {path.string(), std::to_string(laps), std::to_string(kRecordBytes), "4194304"});
  REQUIRE(box.add(child.pid()) == 0);
  child.write_line("go");
  std::vector<Lap> result;
  std::map<std::string, std::string> totals;
  while (auto line = child.read_line()) {
    INFO("child said: " << *line);
    REQUIRE(line->rfind("error", 0) != 0);
    auto fields = parse_fields(*line);
    if (line->rfind("lap ", 0) == 0) {
      result.push_back({std::stod(fields.at("written")), std::stod(fields.at("read")),
                        std::stoull(fields.at("resident")), std::stoull(fields.at("bound"))});
    }
    if (line->rfind("result ", 0) == 0) totals = fields;
  }
  REQUIRE(child.wait() == 0);
  REQUIRE(static_cast<int>(result.size()) == laps);
  CHECK(totals.at("missing") == "0");
  CHECK(totals.at("corrupt") == "0");
  CHECK(totals.at("records") == totals.at("expected"));
  std::filesystem::remove(path);
  return result;
}

}  // namespace

TEST_CASE("paging in a memory box: three laps of a ring larger than the limit, no read-back, bounded memory") {
  std::string why_not;
  auto box = make_memory_box(kMemoryLimit, &why_not);
  if (!box) {
    MESSAGE("skipped: no memory cgroup to run in (" << why_not << ")");
    return;
  }
  TempDir dir;
  struct statfs filesystem {};
  REQUIRE(::statfs(dir.path().c_str(), &filesystem) == 0);
  if (static_cast<unsigned long>(filesystem.f_type) == TMPFS_MAGIC ||
      static_cast<std::uint64_t>(filesystem.f_bavail) * filesystem.f_bsize < 2 * kCapacity) {
    MESSAGE("skipped: " << dir.path() << " is tmpfs or has less than 512 MiB free");
    return;
  }
  CreateOptions probe = small_ring(1 << 20);
  probe.paging = PagingStrategy::zero_range;
  if (Ring::create(dir / "probe", probe).info().paging != PagingStrategy::zero_range) {
    MESSAGE("skipped: no FALLOC_FL_ZERO_RANGE on " << dir.path());
    return;
  }

  PrivateRingRegistry registry(dir / "registry");
  // Control: without the engine the same box makes the writer read back what it overwrites. If
  // it did not, the box would not be reproducing the problem and the check below would prove
  // nothing.
  const std::vector<Lap> plain = run_laps(*box, dir, PagingStrategy::none, 2);
  MESSAGE("engine off, lap 2: wrote " << plain[1].written / (1 << 20) << " MiB, read back "
                                      << plain[1].read / (1 << 20) << " MiB");
  CHECK(plain[1].read > 0.25 * plain[1].written);

  const std::vector<Lap> engine = run_laps(*box, dir, PagingStrategy::zero_range, 3);
  for (std::size_t lap = 0; lap < engine.size(); ++lap) {
    MESSAGE("engine on, lap " << lap + 1 << ": wrote " << engine[lap].written / (1 << 20) << " MiB, read back "
                              << engine[lap].read / (1 << 20) << " MiB, ring resident at most "
                              << (engine[lap].resident >> 20) << " MiB (bound " << (engine[lap].bound >> 20)
                              << " MiB)");
    if (lap > 0) CHECK(engine[lap].read <= 0.01 * engine[lap].written);
    CHECK(engine[lap].resident <= engine[lap].bound);
  }
  MESSAGE("box peak " << (box->peak_bytes().value_or(0) >> 20) << " MiB of a " << (kMemoryLimit >> 20) << " MiB limit");
}
