// A producer whose process cannot map the view it writes through (its address space limited, as
// `ulimit -v` does) says so in one line and exits 1, whichever way it writes; it spun forever,
// waiting for space that was there. The ring stays usable: the claims it left are padded over.
#include <doctest/doctest.h>

#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

// On tmpfs a ring of up to 256 MiB is mapped as one view of all its data area (64 MiB here): a
// limit of 32 MiB lets the program start (it needs less than 8 here) but never map that view.
// Elsewhere views are 8 MiB or less, too close to what the program needs to start.
constexpr rlim_t kAddressSpace = 32 << 20;
const char* const kShm = "/dev/shm";

// ASan reserves terabytes of address space for its shadow memory as a program starts (gcc says
// so with __SANITIZE_ADDRESS__, clang with __has_feature).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
#else
constexpr bool kAddressSanitizer = false;
#endif

bool shm_is_tmpfs() {
  struct statfs filesystem {};
  return ::statfs(kShm, &filesystem) == 0 && static_cast<unsigned long>(filesystem.f_type) == TMPFS_MAGIC;
}

// The ring, in /dev/shm rather than the work directory (which may be on a disk), removed at the end.
struct ShmRing {
  std::string path = std::string(kShm) + "/ringfile-programs-address-space-" + std::to_string(::getpid()) + ".ring";
  ShmRing() { std::remove(path.c_str()); }
  ~ShmRing() { std::remove(path.c_str()); }
};

}  // namespace

TEST_CASE("ringfile-producer that cannot map its view says so in one line and exits 1, not waiting for space") {
  if (kAddressSanitizer) {
    MESSAGE("skipped: an address-space limit stops an ASan build from starting at all");
    return;
  }
  if (!shm_is_tmpfs()) {
    MESSAGE("skipped: /dev/shm is not tmpfs");
    return;
  }
  WorkDir dir;
  const ShmRing ring;
  const Result created = run(kProducer, {ring.path, "--create", "--size", "64M", "--count", "0"}, dir.path());
  INFO(created.err);
  REQUIRE(created.exit_code == 0);
  write_file(dir / "lines", "one\ntwo\nthree\n");

  struct Way {
    const char* what;
    std::vector<std::string> args;
  };
  const std::vector<Way> ways{
      {"batches of small synthetic records (write_batch)", {"--synthetic", "--count", "10"}},
      {"larger synthetic records, filled in place (claim)", {"--synthetic", "--count", "10", "--record-size", "8K"}},
      {"records read from a file (claim, commit)", {"--input", dir / "lines"}},
  };
  for (const Way& way : ways) {
    CAPTURE(way.what);
    std::vector<std::string> args{ring.path};
    args.insert(args.end(), way.args.begin(), way.args.end());
    Program producer(kProducer, args, dir.path(), {.address_space = kAddressSpace});
    // A guard against the spin only: the failure comes at the first record.
    const int exit_code = producer.wait(std::chrono::seconds(60));
    const std::string err = producer.err();
    INFO("stderr: " << err);
    CHECK(exit_code == 1);
    CHECK(err.rfind("ringfile-producer: cannot map '" + ring.path +
                        "' to write a record: Cannot allocate memory (raise the address-space limit, ulimit -v",
                    0) == 0);
    CHECK(err.find('\n') == err.size() - 1);  // one line: no summary claiming it waited for space
    CHECK(producer.out().empty());
  }

  // Each failed producer left its reservation claimed, with nothing in it; consumers and the next
  // producer pad such claims over (their owners are gone), and read past them.
  const Result produced = run(kProducer, {ring.path, "--synthetic", "--count", "100"}, dir.path());
  INFO(produced.err);
  REQUIRE(produced.exit_code == 0);
  const Result consumed =
      run(kConsumer, {ring.path, "--from", "earliest", "--verify", "--count", "100", "--json"}, dir.path());
  INFO(consumed.err);
  REQUIRE(consumed.exit_code == 0);
  const JsonValue verify = JsonValue::parse(consumed.out)["verify"];
  CHECK(verify["ok"].as_bool());
  CHECK(verify["records"].as_uint() == 100);
  CHECK(verify["corrupt"].as_uint() == 0);
  CHECK(verify["missing"].as_uint() == 0);
}
