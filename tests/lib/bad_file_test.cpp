// Untrusted files: each kind of damage gives its error code and a message, never a crash.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "atomics.hpp"
#include "ring_file.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"
#include "support/rings.hpp"
#include "support/temp_dir.hpp"

using namespace ringfile;
using namespace ringfile::test;

namespace {

ErrorCode open_error(const std::filesystem::path& path, std::string* message = nullptr) {
  try {
    Ring::open(path);
  } catch (const Error& error) {
    if (message != nullptr) *message = error.what();
    return error.code();
  }
  FAIL("opening a bad file succeeded");
  return ErrorCode::io_error;
}

void patch(const std::filesystem::path& path, off_t offset, const void* bytes, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes, size, offset) == static_cast<ssize_t>(size));
  ::close(fd);
}

format::FileIdentity read_identity(const std::filesystem::path& path) {
  format::FileIdentity identity{};
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&identity), sizeof identity);
  return identity;
}

// Rewrites the identity with a correct checksum, as a newer or a buggy writer would.
void rewrite_identity(const std::filesystem::path& path, format::FileIdentity identity) {
  identity.identity_crc32c = crc32c({reinterpret_cast<const std::byte*>(&identity),
                                     offsetof(format::FileIdentity, identity_crc32c)});
  patch(path, 0, &identity, sizeof identity);
}

}  // namespace

TEST_CASE("a file that is not a ring") {
  TempDir dir;
  std::ofstream(dir / "text") << "just some text that happens to be long enough to read a header from it\n";
  std::string message;
  CHECK(open_error(dir / "text", &message) == ErrorCode::not_a_ring);
  CHECK(message.find("not a ring") != std::string::npos);
  std::ofstream(dir / "empty");
  CHECK(open_error(dir / "empty") == ErrorCode::not_a_ring);
  CHECK(open_error(dir.path()) == ErrorCode::not_a_ring);
  CHECK(open_error(dir / "missing") == ErrorCode::not_found);
}

TEST_CASE("wrong magic in an otherwise whole ring") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  patch(dir / "ring", 0, "RINGFILX", 8);
  CHECK(open_error(dir / "ring") == ErrorCode::not_a_ring);
}

TEST_CASE("a newer major version is refused, naming both versions") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  auto identity = read_identity(dir / "ring");
  identity.version_major = format::kVersionMajor + 1;
  identity.version_minor = 3;
  rewrite_identity(dir / "ring", identity);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::version_mismatch);
  CHECK(message.find(std::to_string(format::kVersionMajor + 1) + ".3") != std::string::npos);
  CHECK(message.find("reads version " + std::to_string(format::kVersionMajor)) != std::string::npos);
}

TEST_CASE("a newer minor version still opens") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  auto identity = read_identity(dir / "ring");
  identity.version_minor = format::kVersionMinor + 1;
  rewrite_identity(dir / "ring", identity);
  CHECK_NOTHROW(Ring::open(dir / "ring"));
}

TEST_CASE("a flipped bit in the identity is caught by its checksum") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  const std::uint8_t flipped = 0x41;
  patch(dir / "ring", offsetof(format::FileIdentity, max_record_bytes), &flipped, 1);
  CHECK(open_error(dir / "ring") == ErrorCode::corrupt);
}

TEST_CASE("truncated files") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  REQUIRE(::truncate((dir / "ring").c_str(), format::kHeaderSegmentBytes + (1 << 19)) == 0);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::truncated);
  CHECK(message.find("truncated") != std::string::npos);
  REQUIRE(::truncate((dir / "ring").c_str(), 100) == 0);
  CHECK(open_error(dir / "ring") == ErrorCode::truncated);
}

TEST_CASE("capacity not matching the file") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  REQUIRE(::truncate((dir / "ring").c_str(), format::kHeaderSegmentBytes + (2 << 20)) == 0);
  CHECK(open_error(dir / "ring") == ErrorCode::corrupt);
  // A capacity field that is internally valid but disagrees with the file's size.
  Ring::create(dir / "other", small_ring(1 << 20));
  auto identity = read_identity(dir / "other");
  identity.data_capacity = 1 << 19;
  rewrite_identity(dir / "other", identity);
  CHECK(open_error(dir / "other") == ErrorCode::corrupt);
}

TEST_CASE("a consumer slot with an absurd cursor") {
  TempDir dir;
  {
    Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
    auto& slot = ring.file()->header().consumers[5];
    slot.state = static_cast<std::uint32_t>(format::ConsumerState::detached);
    slot.cursor = 1ull << 40;  // far beyond the head (0)
  }
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::corrupt);
  CHECK(message.find("consumer slot 5") != std::string::npos);
}

TEST_CASE("a record length out of bounds stops the consumer with corrupt, never a crash") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 1000));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("fine")) == ClaimStatus::ok);
  REQUIRE(producer.write(as_bytes("to be damaged")) == ClaimStatus::ok);
  // Overwrite the second frame's commit word with a length far above the maximum record size.
  const detail::Geometry& geometry = ring.file()->geometry();
  const std::uint64_t second = format::frame_stride(format::kRecordHeaderBytes + 4);
  const std::uint64_t bad_word =
      format::make_commit_word(0x7fffffff, format::FrameType::data, geometry.tag_of(second));
  patch(dir / "ring", static_cast<off_t>(ring.info().data_offset + second), &bad_word, sizeof bad_word);

  std::vector<std::string> seen;
  const PollResult polled = consumer.poll([&](const Record& record) {
    seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  });
  CHECK(seen == std::vector<std::string>{"fine"});
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(consumer.error_message().find("position " + std::to_string(second)) != std::string::npos);
  CHECK(consumer.error_message().find("maximum record size") != std::string::npos);
  // It stays stopped at the damage instead of skipping into garbage.
  CHECK(consumer.poll([](const Record&) {}).status == PollStatus::corrupt);
}

TEST_CASE("a payload that no longer matches its checksum is reported") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("checksummed payload")) == ClaimStatus::ok);
  patch(dir / "ring", static_cast<off_t>(ring.info().data_offset + format::kRecordHeaderBytes + 3), "X", 1);
  CHECK(consumer.poll([](const Record&) {}).status == PollStatus::corrupt);
  CHECK(consumer.stats().checksum_failures == 1);
}

TEST_CASE("no read permission gives permission_denied") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  REQUIRE(::chmod((dir / "ring").c_str(), 0600) == 0);
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  // Root reads anything, so the check runs in a child that gives up root first.
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    try {
      Ring::open(dir / "ring", {.read_only = true});
    } catch (const Error& error) {
      ::_exit(error.code() == ErrorCode::permission_denied ? 0 : 1);
    }
    ::_exit(2);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
