// Every bad argument and every bad file gives its exit code (2 usage, 1 runtime) and exactly
// one line on stderr that names the problem.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

struct BadCase {
  const std::string& binary;
  std::vector<std::string> args;  // "RING", "MISSING", "NOT_A_RING", "DIR", "TRUNCATED", "SHORT_HEADER", "OLD_VERSION" are replaced
  int exit_code;
  std::string message;            // part of the one line
};

// The bad files each case may name, made once per test.
struct BadFiles {
  explicit BadFiles(const WorkDir& dir) : dir_(dir) {
    REQUIRE(run(kProducer, {dir / "good.ring", "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
    write_file(dir / "not_a_ring", "just some text, no magic here\n");
    std::filesystem::create_directory(dir.path() / "a_directory.ring");
    REQUIRE(run(kProducer, {dir / "truncated.ring", "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
    REQUIRE(::truncate((dir / "truncated.ring").c_str(), 100 * 1024) == 0);  // header whole, data area short
    REQUIRE(run(kProducer, {dir / "short_header.ring", "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
    REQUIRE(::truncate((dir / "short_header.ring").c_str(), 20000) == 0);  // identity whole, slot tables cut
    REQUIRE(run(kProducer, {dir / "old.ring", "--create", "--size", "1M", "--count", "0"}, dir.path()).exit_code == 0);
    // Major and minor version are the two u16 after the 8-byte magic; the reader checks them first.
    const int fd = ::open((dir / "old.ring").c_str(), O_WRONLY);
    const unsigned char version[4] = {99, 0, 0, 0};  // 99.0
    REQUIRE(::pwrite(fd, version, 4, 8) == 4);
    ::close(fd);
    std::filesystem::create_symlink("nowhere.ring", dir.path() / "dangling.ring");
  }

  std::vector<std::string> resolve(const std::vector<std::string>& args) const {
    std::vector<std::string> resolved;
    for (const auto& arg : args) {
      if (arg == "RING") resolved.push_back(dir_ / "good.ring");
      else if (arg == "MISSING") resolved.push_back(dir_ / "missing.ring");
      else if (arg == "NOT_A_RING") resolved.push_back(dir_ / "not_a_ring");
      else if (arg == "DIR") resolved.push_back(dir_ / "a_directory.ring");
      else if (arg == "TRUNCATED") resolved.push_back(dir_ / "truncated.ring");
      else if (arg == "SHORT_HEADER") resolved.push_back(dir_ / "short_header.ring");
      else if (arg == "OLD_VERSION") resolved.push_back(dir_ / "old.ring");
      else if (arg == "NO_DIR") resolved.push_back(dir_ / "no/such/dir/x.ring");
      else if (arg == "DANGLING") resolved.push_back(dir_ / "dangling.ring");
      else if (arg.find("NO_DIR_PARENT") != std::string::npos) {
        std::string replaced = arg;
        for (std::size_t at; (at = replaced.find("NO_DIR_PARENT")) != std::string::npos;) {
          replaced.replace(at, 13, dir_ / "no/such/dir");
        }
        resolved.push_back(replaced);
      }
      else resolved.push_back(arg);
    }
    return resolved;
  }

 private:
  const WorkDir& dir_;
};

void check_case(const WorkDir& dir, const BadFiles& files, const BadCase& bad) {
  const std::vector<std::string> args = files.resolve(bad.args);
  std::string command = bad.binary.substr(bad.binary.rfind('/') + 1);
  for (const auto& arg : bad.args) command += " " + arg;
  const Result result = run(bad.binary, args, dir.path());
  INFO("command: " << command);
  INFO("stderr: " << result.err);
  CHECK(result.exit_code == bad.exit_code);
  // One line: the program's name, the problem; nothing on stdout.
  CHECK(result.err.rfind(bad.binary.substr(bad.binary.rfind('/') + 1) + ": ", 0) == 0);
  CHECK(result.err.find('\n') == result.err.size() - 1);
  CHECK(result.err.find(files.resolve({bad.message}).front()) != std::string::npos);
  CHECK(result.out.empty());
}

// Runs `binary` with `args` through /bin/sh with `redirection` after it (e.g. "> /dev/full"):
// the shell passes each argument through "$N" unchanged. Returns the result and the command line.
std::pair<Result, std::string> run_redirected(const WorkDir& dir, const std::string& binary,
                                              const std::vector<std::string>& args, const std::string& redirection) {
  std::string command = "exec";
  std::vector<std::string> shell_args{"-c", ""};
  for (std::size_t index = 0; index <= args.size(); ++index) {
    command += " \"$" + std::to_string(index) + "\"";
    shell_args.push_back(index == 0 ? binary : args[index - 1]);
  }
  shell_args[1] = command + " " + redirection;
  return {run("/bin/sh", shell_args, dir.path()), shell_args[1]};
}

}  // namespace

TEST_CASE("ringfile-producer: each bad argument and bad file gives its exit code and one line") {
  WorkDir dir;
  const BadFiles files(dir);
  const std::vector<BadCase> cases{
      {kProducer, {}, 2, "PATH is required"},
      {kProducer, {"RING", "--bogus"}, 2, "--bogus"},
      {kProducer, {"RING", "--create", "--size", "12X"}, 2, "'12X' is not a size"},
      {kProducer, {"RING", "--create"}, 2, "add --size"},
      {kProducer, {"RING", "--size", "1M"}, 2, "only applies when creating a ring; add --create"},
      {kProducer, {"RING", "--format", "xml"}, 2, "'xml' is not one of lines|raw|frames"},
      {kProducer, {"RING", "--duration", "5parsecs"}, 2, "'5parsecs' is not a duration"},
      {kProducer, {"RING", "--count", "many"}, 2, "--count: 'many' is not a whole number, 0 or more"},
      {kProducer, {"RING", "--count", "-1"}, 2, "'-1' is not a whole number, 0 or more"},
      {kProducer, {"RING", "--count", "1.5"}, 2, "'1.5' is not a whole number, 0 or more"},
      {kProducer, {"RING", "--count", "1K"}, 2, "'1K' is not a whole number, 0 or more"},
      {kProducer, {"MISSING", "--create", "--size", "16MB"}, 2,
       "'16MB' is ambiguous (MB is a power of 1000 to some, of 1024 to others); sizes here are powers of 1024: "
       "write 16M or 16MiB"},
      {kProducer, {"MISSING", "--create", "--size", "1gb"}, 2, "write 1G or 1GiB"},
      {kProducer, {"RING", "--synthetic", "--record-size", "4KB"}, 2, "'4KB' is ambiguous"},
      {kProducer, {"RING", "--synthetic", "--procs", "-2"}, 2, "--procs: '-2' is not a number of producer processes, 1 to 64"},
      {kProducer, {"RING", "--synthetic", "--procs", "0"}, 2, "--procs: '0' is not a number of producer processes, 1 to 64"},
      {kProducer, {"RING", "--synthetic", "--record-size", "100.7"}, 2, "'100.7' is not a whole number of bytes"},
      {kProducer, {"MISSING", "--create", "--size", "1M", "--hold-window", "0"}, 2,
       "--hold-window: '0' holds nothing in memory; give auto, ring or a size above 0"},
      {kProducer, {"MISSING", "--create", "--size", "1M", "--max-record", "0"}, 2,
       "--max-record 0: a ring's records must be able to hold a byte; give a size (64K)"},
      {kProducer, {"MISSING", "--create", "--size", "1M", "--max-record", "5G"}, 2,
       "--max-record 5.0 GiB is above the largest record a ring takes (1.0 GiB); lower it"},
      {kProducer, {"RING", "--duration", "400y"}, 2, "'400y' is not a duration"},
      {kProducer, {"RING", "--duration", "200000d"}, 2, "'200000d' is too long; durations go up to 292 years"},
      {kProducer, {"RING", "--count", "1", "--count", "2"}, 2, "--count is given 2 times; give it once"},
      {kProducer, {"NO_DIR", "--create", "--size", "1M"}, 1,
       "the directory 'NO_DIR_PARENT' does not exist; create it first (mkdir -p 'NO_DIR_PARENT')"},
      // A directory that is there but makes no files (found by a tester: it said /proc did not exist).
      {kProducer, {"/proc/ringfile-bad-usage.ring", "--create", "--size", "1M"}, 1,
       "no file can be created in '/proc' (its file system does not allow it)"},
      {kProducer, {"RING", "--procs", "2"}, 2, "one input cannot feed several producer processes"},
      {kProducer, {"RING", "RING"}, 2, "one input cannot feed several producer processes"},
      {kProducer, {"RING", "--synthetic", "--record-size", "10"}, 2, "need at least 24 bytes"},
      {kProducer, {"RING", "--synthetic", "--record-size", "4K-1K"}, 2, "not a size or a range"},
      {kProducer, {"RING", "--synthetic", "--input", "x"}, 2, "drop --input/--format"},
      {kProducer, {"RING", "--rate", "5"}, 2, "add --synthetic"},
      {kProducer, {"RING", "--synthetic", "--rate", "fast"}, 2, "'fast' is not a rate"},
      {kProducer, {"RING", "--synthetic", "--record-size", "512K"}, 2, "larger than the largest record"},
      {kProducer, {"RING", "--create", "--size", "1M", "--mode", "999"}, 2, "not an octal file mode"},
      {kProducer, {"MISSING", "--create", "--size", "1000"}, 2, "below the minimum"},
      // Sizes side by side that round alike are shown in bytes (RING's largest record: 256K - 40).
      {kProducer, {"MISSING", "--create", "--size", "65535"}, 2,
       "capacity 65535 bytes is below the minimum of 64.0 KiB"},
      {kProducer, {"MISSING", "--create", "--size", "1"}, 2, "capacity 1 byte is below the minimum of 64.0 KiB"},
      {kProducer, {"MISSING", "--create", "--size", "1M", "--max-record", "512K"}, 2,
       "maximum record size 512.0 KiB needs a capacity of at least 1048656 bytes (got 1048576 bytes)"},
      {kProducer, {"RING", "--create", "--size", "1M", "--max-record", "256K"}, 1,
       "already exists with other parameters: max record 262104 bytes (asked 262144 bytes)"},
      {kProducer, {"RING", "--synthetic", "--record-size", "256K"}, 2,
       "--record-size 262144 bytes is larger than the largest record of '"},
      {kProducer, {"MISSING", "--synthetic"}, 1, "no such file; create the ring first"},
      // Not "create the ring first" where --create was given (found by a review helper).
      {kProducer, {"DANGLING", "--create", "--size", "1M"}, 1,
       "a symbolic link to 'nowhere.ring', which does not exist; create the ring there, or remove the link"},
      {kProducer, {"NOT_A_RING", "--synthetic"}, 1, "is not a ring file"},
      {kProducer, {"DIR", "--synthetic"}, 1, "is a directory"},
      {kProducer, {"TRUNCATED", "--synthetic"}, 1, "is truncated"},
      {kProducer, {"SHORT_HEADER", "--synthetic"}, 1, "is truncated: 20000 bytes, but its header describes 1114112"},
      {kProducer, {"OLD_VERSION", "--synthetic"}, 1, "has ring format version 99.0; this build reads version"},
      {kProducer, {"RING", "--create", "--size", "2M", "--policy", "overwrite"}, 1,
       "already exists with other parameters: size 1.0 MiB (asked 2.0 MiB), policy block (asked overwrite)"},
      // RING was made with the default paging (none: 1 MiB is kept whole) and mode 0640.
      {kProducer, {"RING", "--create", "--size", "1M", "--paging", "punch-hole"}, 1,
       "already exists with other parameters: paging none (asked punch-hole); use the existing parameters"},
      {kProducer, {"RING", "--create", "--size", "1M", "--mode", "0666"}, 1,
       "already exists with other parameters: mode 0640 (asked 0666)"},
      {kProducer, {"RING", "--input", "/nonexistent/input.txt"}, 1, "cannot read input '/nonexistent/input.txt'"},
  };
  for (const BadCase& bad : cases) check_case(dir, files, bad);
}

TEST_CASE("ringfile-consumer: each bad argument and bad file gives its exit code and one line") {
  WorkDir dir;
  const BadFiles files(dir);
  const std::vector<BadCase> cases{
      {kConsumer, {}, 2, "PATH is required"},
      {kConsumer, {"RING", "--from", "yesterday"}, 2,
       "'yesterday' is not committed, earliest, latest, a position, -N (the N-th last record) or a time"},
      {kConsumer, {"RING", "--from", "-0"}, 2, "'-0' asks for no record"},
      {kConsumer, {"RING", "--from", "2025-13-01T00:00:00Z"}, 2, "is not committed, earliest, latest"},
      {kConsumer, {"RING", "--from", "2025-02-30T00:00:00Z"}, 2,
       "--from: '2025-02-30T00:00:00Z' is not a date: February 2025 has 28 days"},
      {kConsumer, {"RING", "--from", "9999-12-31T23:59:59Z"}, 2,
       "'9999-12-31T23:59:59Z' is out of range: times go from 1970 to 2262-04-11"},
      {kConsumer, {"RING", "--until", "2025-04-31T00:00:00Z"}, 2, "is not a date: April 2025 has 30 days"},
      {kConsumer, {"RING", "--reset", "x", "--to", "9999-01-01"}, 2, "is out of range"},
      {kConsumer, {"RING", "--until", "soon"}, 2, "'soon' is not a time"},
      {kConsumer, {"RING", "--count", "-1"}, 2, "'-1' is not a whole number, 0 or more"},
      {kConsumer, {"RING", "--count", "1.5"}, 2, "'1.5' is not a whole number, 0 or more"},
      {kConsumer, {"RING", "--show", "%q"}, 2, "--show: '%q' is not a field"},
      {kConsumer, {"RING", "--show", "x\\"}, 2, "--show: '\\' is not an escape"},
      {kConsumer, {"RING", "--show", ""}, 2, "--show: an empty template shows nothing"},
      {kConsumer, {"RING", "--show", "%v", "--format", "hex"}, 2, "drop --format (or --show)"},
      {kConsumer, {"RING", "--next-boundary"}, 2, "--next-boundary goes with --from POSITION"},
      {kConsumer, {"RING", "--expire-after", "1h"}, 2, "--expire-after applies to a named consumer"},
      {kConsumer, {"RING", "--name", "billing", "--expire-after", "0"}, 2,
       "--expire-after must be at least 1ms; leave it out for a consumer that never expires"},
      {kConsumer, {"RING", "--list", "--count", "3"}, 2, "--count is for reading records"},
      {kConsumer, {"RING", "--reset", "x"}, 2, "--reset needs a target"},
      {kConsumer, {"RING", "--to", "earliest"}, 2, "--to goes with --reset NAME"},
      {kConsumer, {"RING", "--dry-run"}, 2, "--dry-run goes with --reset NAME or --clear-damaged-slots"},
      {kConsumer, {"RING", "--clear-damaged-slots", "--list"}, 2, "are separate tasks; give one"},
      {kConsumer, {"RING", "--reset", "x", "--to", "committed"}, 2, "'committed' is not earliest, latest"},
      {kConsumer, {"RING", "--list", "--delete", "x"}, 2, "separate tasks; give one"},
      {kConsumer, {"RING", "--delete", "nobody"}, 1, "no consumer is named 'nobody'; ringfile-consumer --list"},
      // Found by a tester: the options after it were taken for names to delete.
      {kConsumer, {"RING", "--delete", "--until-idle", "0.2s"}, 2,
       "'--until-idle' after --delete is taken for a NAME; give the options before --delete"},
      {kConsumer, {"RING", "--describe", "nobody"}, 1, "no consumer is named 'nobody'"},
      {kConsumer, {"RING", "--reset", "nobody", "--to", "latest"}, 1, "no consumer is named 'nobody'"},
      {kConsumer, {"RING", "--name", "tab\there"}, 2, "holds a control character (0x09)"},
      {kConsumer, {"RING", "--name", "bad\xff"}, 2, "is not valid UTF-8"},
      // Latin-1 for "Â" before a letter; a space written in three bytes (an overlong form).
      {kConsumer, {"RING", "--name", "\xc2" "A"}, 2, "is not valid UTF-8"},
      {kConsumer, {"RING", "--name", "a\xe0\x80\xa0" "b"}, 2, "is not valid UTF-8"},
      {kConsumer, {"RING", "--from", "committed"}, 2, "needs a saved cursor"},
      {kConsumer, {"RING", "--json"}, 2, "write the records with --output FILE, or use --discard"},
      {kConsumer, {"RING", "--discard", "--output", "x"}, 2, "--discard writes nothing"},
      {kConsumer, {"RING", "--append"}, 2, "--append applies to --output FILE"},
      {kConsumer, {"RING", "--commit-every", "soon"}, 2, "'soon' is neither a number of records nor a duration"},
      {kConsumer, {"RING", "--commit-every", "0"}, 2, "--commit-every: '0' is no interval; save the cursor every 1 record or more"},
      {kConsumer, {"RING", "--commit-every", "0ms"}, 2, "'0ms' is no interval"},
      {kConsumer, {"RING", "--until-idle", "a while"}, 2, "is not a duration"},
      {kConsumer, {"RING", "--name", "has space"}, 2, "holds a space"},
      {kConsumer, {"RING", "--name", ""}, 2, "--name: an empty name"},
      {kConsumer, {"RING", "--name", std::string(40, 'n')}, 2, "longer than 31 bytes"},
      // A right-to-left override and a line separator, valid UTF-8 that reorders or breaks a row;
      // a no-break space and a zero-width one; a backslash, which starts the escapes of names
      // that cannot be shown.
      {kConsumer, {"RING", "--name", "a\xe2\x80\xae" "b"}, 2, "reorders or breaks the line it is shown on (U+202E)"},
      {kConsumer, {"RING", "--name", "a\xe2\x80\xa8" "b"}, 2, "reorders or breaks the line it is shown on (U+2028)"},
      {kConsumer, {"RING", "--name", "a\xc2\xa0" "b"}, 2, "a space or an invisible character (U+00A0)"},
      {kConsumer, {"RING", "--name", "a\xe2\x80\x8b" "b"}, 2, "a space or an invisible character (U+200B)"},
      {kConsumer, {"RING", "--name", "a\\x1b"}, 2, "holds a backslash"},
      {kConsumer, {"RING", "--from", "4096"}, 2, "position 4096 is outside the data still in the ring [0, 0]"},
      {kConsumer, {"MISSING"}, 1, "no such file"},
      // A path is shown as a terminal cannot act on it: ESC [ 2 J would clear the screen.
      {kConsumer, {"/nonexistent/a\x1b[2Jb"}, 1, "'/nonexistent/a\\x1b[2Jb'"},
      {kConsumer, {"NOT_A_RING"}, 1, "is not a ring file"},
      {kConsumer, {"TRUNCATED"}, 1, "is truncated"},
      {kConsumer, {"SHORT_HEADER"}, 1, "is truncated: 20000 bytes"},
      {kConsumer, {"OLD_VERSION"}, 1, "has ring format version 99.0"},
      {kConsumer, {"RING", "--output", "/nonexistent/out.txt"}, 1, "cannot write output '/nonexistent/out.txt'"},
  };
  for (const BadCase& bad : cases) check_case(dir, files, bad);
}

TEST_CASE("ringfile-status: each bad argument and bad file gives its exit code and one line") {
  WorkDir dir;
  const BadFiles files(dir);
  const std::vector<BadCase> cases{
      {kStatus, {}, 2, "PATH is required"},
      {kStatus, {"RING", "--interval", "soon"}, 2, "'soon' is not a duration"},
      // Worded as every other duration of every program (it said "ms, s, m or h" alone).
      {kStatus, {"RING", "--watch", "5q"}, 2, "'5q' is not a duration; write a number with ms, s, m, h or d"},
      {kStatus, {"RING", "--json", "--prometheus"}, 2, "choose one"},
      {kStatus, {"RING", "--prometheus", "--watch"}, 2, "drop --watch"},
      {kStatus, {"RING", "--watch", "--count", "0"}, 2, "--count 0 asks for no sample; give 1 or more, or drop --count"},
      {kStatus, {"RING", "--max-lag", "lots"}, 2, "'lots' is neither a size (512M) nor a duration"},
      {kStatus, {"RING", "--count", "3"}, 2, "add --watch"},
      {kStatus, {"RING", "--watch", "--count", "-3"}, 2, "'-3' is not a whole number"},
      {kStatus, {"RING", "--listen", "localhost"}, 2, "'localhost' is not HOST:PORT"},
      {kStatus, {"RING", "--listen", "127.0.0.1:0", "--json"}, 2, "drop --watch, --json and --max-lag"},
      {kStatus, {"RING", "--max-lag", "5MB"}, 2, "'5MB' is neither a size"},
      {kStatus, {"MISSING"}, 1, "no such file"},
      {kStatus, {"NOT_A_RING"}, 1, "is not a ring file"},
      {kStatus, {"DIR"}, 1, "is not a regular file, so not a ring"},
      {kStatus, {"TRUNCATED"}, 1, "is truncated"},
      {kStatus, {"SHORT_HEADER"}, 1, "is truncated: 20000 bytes"},
      {kStatus, {"OLD_VERSION"}, 1, "has ring format version 99.0"},
  };
  for (const BadCase& bad : cases) check_case(dir, files, bad);
}

TEST_CASE("--help prints the usage on stdout and exits 0") {
  WorkDir dir;
  for (const std::string* binary : {&kProducer, &kConsumer, &kStatus}) {
    const Result help = run(*binary, {"--help"}, dir.path());
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage: ") != std::string::npos);
    CHECK(help.err.empty());
  }
}

// The file is new: what to check is the directory (it said "the file's owner and mode", found by a
// review helper).
TEST_CASE("ringfile-producer --create in a directory this user may not write to names the directory") {
  WorkDir dir;
  const std::filesystem::path closed = dir.path() / "closed";
  std::filesystem::create_directory(closed);
  REQUIRE(::chmod(closed.c_str(), 0555) == 0);
  std::string why_not;
  const std::optional<UnprivilegedProgram> producer = unprivileged(kProducer, dir.path(), &why_not);
  if (!producer) {
    MESSAGE("skipped: " << why_not);
    return;
  }
  const Result refused = run(producer->binary, {closed / "x.ring", "--create", "--size", "1M", "--count", "0"},
                             dir.path(), producer->launch);
  CHECK(refused.exit_code == 1);
  CHECK(refused.err.find("permission denied creating a file in '" + closed.string() +
                         "'; check the directory's owner and mode") != std::string::npos);
  CHECK(std::filesystem::is_empty(closed));
}

// The example answered --help by running its demo (found by a review helper).
TEST_CASE("ringfile-example runs its demo, checking every record, and answers --help without running it") {
  WorkDir dir;
  const Result help = run(kExample, {"--help"}, dir.path());
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("Usage: ringfile-example") != std::string::npos);
  CHECK(help.out.find("created") == std::string::npos);
  const Result bad = run(kExample, {"--records", "5"}, dir.path());
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "ringfile-example: takes no arguments ('--records'); see --help\n");
  const Result demo = run(kExample, {}, dir.path());
  INFO(demo.err);
  CHECK(demo.exit_code == 0);
  CHECK(demo.out.find("200000 records, 0 missing, 0 corrupt, 0 duplicates") != std::string::npos);
}

TEST_CASE("an output or input that is the ring itself is refused before anything is written, and the ring stays whole") {
  WorkDir dir;
  const std::string ring = dir / "self.ring";
  const std::string other_name = dir / "other-name.ring";  // a hard link: the same file
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--synthetic", "--count", "100"}, dir.path()).exit_code == 0);
  std::filesystem::create_hard_link(ring, other_name);
  const auto ring_bytes = std::filesystem::file_size(ring);
  const auto refused = [&](const Result& result, const std::string& message) {
    INFO("stderr: " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find(message) != std::string::npos);
    CHECK(result.err.find('\n') == result.err.size() - 1);
    CHECK(std::filesystem::file_size(ring) == ring_bytes);
    const Result check = run(kConsumer, {ring, "--from", "earliest", "--verify", "--discard", "--until-idle", "100ms"},
                             dir.path());
    INFO("check: " << check.err);
    CHECK(check.exit_code == 0);
    CHECK(check.err.find("verify OK: 100 records from 1 producer") != std::string::npos);
  };
  refused(run(kConsumer, {ring, "--from", "earliest", "--until-idle", "100ms", "--output", other_name}, dir.path()),
          "the output '" + other_name + "' is the ring itself; choose another file");
  refused(run(kConsumer,
              {ring, "--from", "earliest", "--until-idle", "100ms", "--output", ring, "--append", "--format", "raw"},
              dir.path()),
          "is the ring itself");
  refused(run("/bin/sh", {"-c", "exec \"$0\" \"$1\" --from earliest --until-idle 100ms >> \"$1\"", kConsumer, ring},
              dir.path()),
          "the output stdout is the ring itself");
  refused(run(kProducer, {ring, "--input", other_name}, dir.path()), "the input '" + other_name + "' is the ring itself");
  refused(run(kProducer, {ring}, dir.path(), {.stdin_file = ring}), "the input stdin is the ring itself");
  // Another file is still emptied before the records go in, and appended to with --append.
  const std::string out = dir / "out.txt";
  write_file(out, std::string(100000, 'x'));
  REQUIRE(run(kConsumer, {ring, "--from", "earliest", "--count", "2", "--show", "%s\\n", "--output", out}, dir.path())
              .exit_code == 0);
  CHECK(read_file(out) == "0\n1\n");
  REQUIRE(run(kConsumer, {ring, "--from", "earliest", "--count", "1", "--show", "%s\\n", "--output", out, "--append"},
              dir.path())
              .exit_code == 0);
  CHECK(read_file(out) == "0\n1\n0\n");
}

TEST_CASE("a report that cannot be written to stdout (a full disk) exits 1 with one line saying so") {
  WorkDir dir;
  const std::string ring = dir / "x.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--synthetic", "--count", "10"}, dir.path()).exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "reader", "--until-idle", "1ms", "--discard"}, dir.path()).exit_code == 0);
  // Found by a tester: each exited 0 with its output lost, so a script that redirects a report to
  // a file and moves it into place published an empty or cut one.
  const std::vector<std::pair<std::string, std::vector<std::string>>> reports{
      {kStatus, {ring}},
      {kStatus, {ring, "--json"}},
      {kStatus, {ring, "--prometheus", "--interval", "0"}},
      {kStatus, {ring, "--watch", "--count", "3", "--interval", "1ms"}},
      {kConsumer, {ring, "--list"}},
      {kConsumer, {ring, "--describe", "reader"}},
      {kProducer, {ring, "--synthetic", "--count", "5", "--json"}},
  };
  for (const auto& report : reports) {
    // Not a structured binding: INFO captures it in a lambda, which clang 14 refuses for those.
    const std::string& binary = report.first;
    const std::vector<std::string>& args = report.second;
    const std::pair<Result, std::string> redirected = run_redirected(dir, binary, args, "> /dev/full");
    const Result& result = redirected.first;
    INFO("command: " << redirected.second << " with " << binary);
    INFO("stderr: " << result.err);
    CHECK(result.exit_code == 1);
    CHECK(result.err.find("writing to stdout failed") != std::string::npos);
    CHECK(result.err.find("writing to stdout failed") == result.err.rfind("writing to stdout failed"));
  }
  // The same reports to a file that takes them exit 0.
  CHECK(run(kStatus, {ring, "--json"}, dir.path()).exit_code == 0);
  CHECK(run(kConsumer, {ring, "--list"}, dir.path()).exit_code == 0);
}

TEST_CASE("a closed stdout or stdin fails the run with EBADF, as cat's does, and a named consumer's cursor stays") {
  WorkDir dir;
  const std::string ring = dir / "x.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--synthetic", "--count", "5"}, dir.path()).exit_code == 0);
  // Found by a tester: the library put /dev/null on the closed descriptor (so that the ring file
  // never becomes stdout), and a consumer wrote its records there without a word, exit 0, its
  // cursor moved past them.
  const auto with_closed = [&](const std::string& binary, const std::vector<std::string>& args,
                               const std::string& closing) { return run_redirected(dir, binary, args, closing).first; };
  const Result consumer = with_closed(kConsumer, {ring, "--name", "reader", "--from", "earliest", "--count", "5"}, ">&-");
  CHECK(consumer.exit_code == 1);
  CHECK(consumer.err.find("writing stdout failed: Bad file descriptor") != std::string::npos);
  const Result described = run(kConsumer, {ring, "--describe", "reader", "--json"}, dir.path());
  REQUIRE(described.exit_code == 0);
  CHECK(JsonValue::parse(described.out)["position"].as_uint() == 0);

  const Result status = with_closed(kStatus, {ring, "--interval", "0"}, ">&-");
  CHECK(status.exit_code == 1);
  CHECK(status.err.find("Bad file descriptor") != std::string::npos);
  const Result producer = with_closed(kProducer, {ring}, "<&-");
  CHECK(producer.exit_code == 1);
  CHECK(producer.err.find("reading stdin failed: Bad file descriptor") != std::string::npos);
}
