// Creating and opening rings, and what a status tool can read of them.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/consumer_table.hpp"
#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

TEST_CASE("a created ring reopens with the same parameters") {
  TempDir dir;
  CreateOptions options = small_ring(1 << 20, WriterPolicy::overwrite, 1000);
  options.file_mode = 0600;
  options.unblock_timeout = std::chrono::milliseconds(1234);
  Ring created = Ring::create(dir / "ring", options);
  Ring opened = Ring::open(dir / "ring");
  const RingInfo& info = opened.info();
  CHECK(info.capacity_bytes == 1 << 20);
  CHECK(info.policy == WriterPolicy::overwrite);
  CHECK(info.max_record_bytes == 1000);
  CHECK(info.unblock_timeout == std::chrono::milliseconds(1234));
  CHECK(info.file_bytes == info.data_offset + info.capacity_bytes);
  CHECK(opened.head_position() == 0);
  struct stat status {};
  REQUIRE(::stat((dir / "ring").c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0600);
  // Every block is reserved up front, so write-back can never meet ENOSPC.
  CHECK(static_cast<std::uint64_t>(status.st_blocks) * 512 >= info.file_bytes);
}

// It followed a null pointer (found by a tester).
TEST_CASE("a moved-from Ring given to a producer, a consumer or the consumer table throws invalid_argument") {
  TempDir dir;
  Ring moved_from = Ring::create(dir / "ring", small_ring(1 << 20));
  const Ring ring = std::move(moved_from);
  const auto code_of = [](const auto& use) {
    try {
      use();
    } catch (const Error& error) {
      CHECK(std::string(error.what()).find("a moved-from Ring") != std::string::npos);
      return error.code();
    }
    return ErrorCode::io_error;  // nothing thrown
  };
  // NOLINTBEGIN(bugprone-use-after-move): the use after the move is what is tested.
  CHECK(code_of([&] { Producer producer(moved_from); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { Consumer::attach(moved_from); }) == ErrorCode::invalid_argument);
  CHECK(code_of([&] { delete_consumer(moved_from, "x"); }) == ErrorCode::invalid_argument);
  // NOLINTEND(bugprone-use-after-move)
  Producer producer(ring);  // the Ring it was moved to works
  CHECK(producer.write(as_bytes("after the move")) == ClaimStatus::ok);
}

TEST_CASE("create refuses an existing file and leaves it alone") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  try {
    Ring::create(dir / "ring", small_ring(2 << 20));
    FAIL("expected an error");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::exists);
  }
  CHECK(Ring::open(dir / "ring").info().capacity_bytes == 1 << 20);
  // What is in the way, said for what it is (found by a tester: a directory was "a file", and an
  // empty path "no such file; create the ring first").
  CHECK_THROWS_WITH_AS(Ring::create(dir.path(), small_ring(1 << 20)), doctest::Contains("a directory is there"), Error);
  CHECK_THROWS_WITH_AS(Ring::create("", small_ring(1 << 20)), "an empty path; name the file for the ring", Error);
}

TEST_CASE("a process killed while it creates rings leaves only whole rings behind") {
  TempDir dir;
  // Each round kills a process that creates ring after ring (removing the one before) at a moment
  // of its own; most of a create is reserving the blocks and writing the header. Before, the file
  // under construction had a name (RING.creating.PID), left behind with all its blocks.
  for (int round = 0; round < 5; ++round) {
    const std::filesystem::path folder = dir.path() / ("round-" + std::to_string(round));
    std::filesystem::create_directory(folder);
    const pid_t creator = ::fork();
    REQUIRE(creator >= 0);
    if (creator == 0) {
      try {
        for (int index = 0;; ++index) {
          Ring::create(folder / ("ring-" + std::to_string(index)), small_ring(16 << 20));
          if (index > 0) std::filesystem::remove(folder / ("ring-" + std::to_string(index - 1)));
        }
      } catch (...) {
        ::_exit(1);  // never back into the test runner: that is the parent's
      }
    }
    // The newest ring's number only grows (each is made before the one before it goes): killed
    // once it reaches a number of its own for the round. A polled condition, with a guard.
    const auto newest_ring = [&] {
      int newest = -1;
      for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        const std::string name = entry.path().filename().string();
        if (name.starts_with("ring-") && name.find('.') == std::string::npos) newest = std::max(newest, std::stoi(name.substr(5)));
      }
      return newest;
    };
    int status = 0;
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (newest_ring() < 3 + round && std::chrono::steady_clock::now() < give_up) {
      REQUIRE(::waitpid(creator, &status, WNOHANG) == 0);  // the creator failed: it said nothing
      ::sched_yield();
    }
    REQUIRE(::kill(creator, SIGKILL) == 0);
    REQUIRE(::waitpid(creator, &status, 0) == creator);
    REQUIRE(newest_ring() >= 3 + round);
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
      const std::string name = entry.path().filename().string();
      CAPTURE(name);
      CHECK(name.starts_with("ring-"));
      CHECK(name.find('.') == std::string::npos);
      CHECK_NOTHROW(Ring::open(entry.path()));
    }
  }
}

TEST_CASE("create rejects impossible options with invalid_argument") {
  TempDir dir;
  const auto code_of = [&](const CreateOptions& options) {
    try {
      Ring::create(dir / "bad", options);
    } catch (const Error& error) {
      return error.code();
    }
    return ErrorCode::io_error;
  };
  CHECK(code_of(small_ring(1000)) == ErrorCode::invalid_argument);            // below minimum
  CHECK(code_of(small_ring((1 << 20) + 1)) == ErrorCode::invalid_argument);   // not page multiple
  CHECK(code_of(small_ring(1 << 20, WriterPolicy::block, 1 << 20)) == ErrorCode::invalid_argument);
  // Values outside the enums (found by a tester: an unknown paging strategy was created as none).
  CreateOptions unknown_policy = small_ring(1 << 20);
  unknown_policy.policy = static_cast<WriterPolicy>(7);
  CHECK(code_of(unknown_policy) == ErrorCode::invalid_argument);
  CreateOptions unknown_paging = small_ring(1 << 20);
  unknown_paging.paging = static_cast<PagingStrategy>(9);
  CHECK(code_of(unknown_paging) == ErrorCode::invalid_argument);
  CHECK(!std::filesystem::exists(dir / "bad"));
}

TEST_CASE("a filesystem too small for the ring gives no_space naming the bytes needed and free") {
  TempDir dir;
  // A 2 MiB tmpfs of our own; mounting needs root (CAP_SYS_ADMIN), else skip.
  if (::mount("ringfile-test", dir.path().c_str(), "tmpfs", 0, "size=2m") != 0) {
    MESSAGE("skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  try {
    Ring::create(dir / "ring", small_ring(8 << 20));
    FAIL("expected no_space");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::no_space);
    const std::string message = error.what();
    CHECK(message.find("needs 8.1 MiB") != std::string::npos);
    // What was free before the attempt, not what a failed reservation left (0 B).
    CHECK(message.find("has 2.0 MiB free") != std::string::npos);
  }
  // Nothing is left behind: no ring, no temporary file.
  CHECK(std::filesystem::is_empty(dir.path()));
  // A ring that fits is created on the same filesystem.
  CHECK_NOTHROW(Ring::create(dir / "ring", small_ring(1 << 20)));
  ::umount2(dir.path().c_str(), MNT_DETACH);
}

TEST_CASE("a ring on a file system mounted read-only: opening it to write says so, a read-only open reads it") {
  TempDir dir;
  // A tmpfs of our own, remounted read-only; mounting needs root, else skip.
  if (::mount("ringfile-test", dir.path().c_str(), "tmpfs", 0, "size=4m") != 0) {
    MESSAGE("skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  Ring::create(dir / "ring", small_ring(1 << 20));
  if (::mount(nullptr, dir.path().c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) {
    const int error = errno;
    ::umount2(dir.path().c_str(), MNT_DETACH);  // not left mounted for the directory's removal
    FAIL("cannot remount the tmpfs read-only: " << std::strerror(error));
  }
  // Found by a tester: it said "permission denied ... check the file's owner and mode", which
  // were right. The code stays permission_denied: a tap falls back to a read-only open on it.
  const auto refusal = [&](const auto& attempt) {
    try {
      attempt();
      return std::string("succeeded");
    } catch (const Error& error) {
      CHECK(error.code() == ErrorCode::permission_denied);
      return std::string(error.what());
    }
  };
  const std::string opening = refusal([&] { Ring::open(dir / "ring"); });
  CHECK(opening.find("its file system is mounted read-only") != std::string::npos);
  CHECK(opening.find("owner and mode") == std::string::npos);
  const std::string creating = refusal([&] { Ring::create(dir / "other", small_ring(1 << 20)); });
  CHECK(creating.find("mounted read-only") != std::string::npos);
  CHECK_NOTHROW(Ring::open(dir / "ring", {.read_only = true}));
  ::umount2(dir.path().c_str(), MNT_DETACH);
}

TEST_CASE("a ring file with holes the filesystem cannot back is refused at open, not met as SIGBUS later") {
  TempDir dir;
  // An 8 MiB tmpfs of our own, as for no_space above; mounting needs root, else skip.
  if (::mount("ringfile-test", dir.path().c_str(), "tmpfs", 0, "size=8m") != 0) {
    MESSAGE("skipped: cannot mount a small tmpfs here (" << std::strerror(errno) << ")");
    return;
  }
  const std::filesystem::path path = dir / "ring";
  Ring::create(path, small_ring(4 << 20));
  const std::uint64_t file_bytes = Ring::open(path, {.read_only = true}).info().file_bytes;
  // Holes in the data area, as a copy that keeps them (cp --sparse=always) leaves; then the rest
  // of the filesystem taken by another file.
  {
    const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, format::kHeaderSegmentBytes,
                        static_cast<off_t>(file_bytes - format::kHeaderSegmentBytes)) == 0);
    ::close(fd);
  }
  const int filler = ::open((dir / "filler").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(filler >= 0);
  // Reserved, not written: a reservation past the free space fails whole, so a little less.
  off_t taken = 0;
  for (off_t step = 1 << 20; step >= 4096; step /= 2) {
    while (::fallocate(filler, 0, taken, step) == 0) taken += step;
  }
  ::close(filler);
  const auto open_code = [&](bool read_only) {
    try {
      Ring::open(path, {.read_only = read_only});
      return std::string("opened");
    } catch (const Error& error) {
      CHECK(std::string(error.what()).find("has holes") != std::string::npos);
      return std::string(to_string(error.code()));
    }
  };
  // For writing (a producer, a consumer's cursor) and for reading (a tap: on tmpfs a read of a
  // hole takes a page): both would meet SIGBUS at the first hole they touch.
  CHECK(open_code(false) == "no_space");
  CHECK(open_code(true) == "no_space");
  // With room again, an open for writing reserves the holes, and the ring is whole.
  std::filesystem::remove(dir / "filler");
  CHECK(open_code(false) == "opened");
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  CHECK(static_cast<std::uint64_t>(status.st_blocks) * 512 >= file_bytes);
  ::umount2(dir.path().c_str(), MNT_DETACH);
}

TEST_CASE("status sees consumers and producers with their pids") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Producer producer(ring);
  ConsumerOptions named;
  named.name = "audit";
  Consumer first = Consumer::attach(ring, named);
  Consumer second = Consumer::attach(ring, {});
  REQUIRE(producer.write(as_bytes("hello")) == ClaimStatus::ok);
  drain(first);

  Ring view = Ring::open(dir / "ring", {.read_only = true});
  const auto consumers = view.consumers();
  REQUIRE(consumers.size() == 2);
  CHECK(consumers[0].name == "audit");
  CHECK(consumers[0].alive);
  CHECK(consumers[0].pid == static_cast<std::uint64_t>(::getpid()));
  CHECK(consumers[0].cursor == view.head_position());
  CHECK(consumers[1].name.empty());
  CHECK(consumers[1].cursor == 0);
  const auto producers = view.producers();
  REQUIRE(producers.size() == 1);
  CHECK(producers[0].committed_records == 1);
  const auto meta = view.record_at(0);
  REQUIRE(meta.has_value());
  CHECK(meta->payload_bytes == 5);
  CHECK(view.residency().resident_bytes > 0);
}

TEST_CASE("a handle tells whether its path still names its file: not once removed, nor once another ring is put there") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  Ring view = Ring::open(dir / "ring", {.read_only = true});
  CHECK(view.path_names_this_file());
  // Another ring renamed over it: the path names a file again, but not this one.
  Ring::create(dir / "next", small_ring(2 << 20));
  std::filesystem::rename(dir / "next", dir / "ring");
  CHECK_FALSE(view.path_names_this_file());
  CHECK(view.info().capacity_bytes == 1 << 20);  // still reads the file it opened
  Ring reopened = Ring::open(dir / "ring", {.read_only = true});
  CHECK(reopened.path_names_this_file());
  std::filesystem::remove(dir / "ring");
  CHECK_FALSE(reopened.path_names_this_file());
}

TEST_CASE("positions split into lap and offset by mask and shift exactly as by division") {
  for (const std::uint64_t capacity : {std::uint64_t{64} << 10, std::uint64_t{1} << 33, std::uint64_t{68} << 10}) {
    CAPTURE(capacity);
    detail::Geometry geometry;
    geometry.set_capacity(capacity);
    geometry.lap_tag_salt = 0x2468ACE1u;
    CHECK((geometry.offset_mask != 0) == ((capacity & (capacity - 1)) == 0));
    std::vector<std::uint64_t> positions;
    const std::vector<std::uint64_t> offsets{0, 1, 8, capacity / 2, capacity - 8, capacity - 1};
    for (const std::uint64_t lap : {0ull, 1ull, 2ull, 777ull, 1ull << 20}) {
      for (const std::uint64_t offset : offsets) positions.push_back(lap * capacity + offset);
    }
    std::uint64_t state = 99;
    for (int index = 0; index < 10000; ++index) {
      state = state * 6364136223846793005ull + 1442695040888963407ull;
      positions.push_back(state >> 8);  // below 2^56: monotonic positions never get near 2^64
    }
    for (const std::uint64_t position : positions) {
      CAPTURE(position);
      REQUIRE(geometry.offset_of(position) == position % capacity);
      REQUIRE(geometry.lap_of(position) == position / capacity);
      REQUIRE(geometry.lap_end(position) == (position / capacity + 1) * capacity);
      REQUIRE(geometry.tag_of(position) == format::lap_tag(position, capacity, geometry.lap_tag_salt));
    }
  }
}
