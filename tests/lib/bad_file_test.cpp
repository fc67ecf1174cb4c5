// Untrusted files: each kind of damage gives its error code and a message, never a crash.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "atomics.hpp"
#include "ring_access.hpp"
#include "ring_file.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"
#include "ringfile/truncated_rings.hpp"
#include "support/file_bytes.hpp"
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
  patch_file(dir / "ring", 0, "RINGFILX", 8);
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
  CHECK(message.find("reads versions 2.x to " + std::to_string(format::kVersionMajor) + ".x") != std::string::npos);
}

TEST_CASE("a version field damaged (its identity checksum no longer holds) is said to be damage, not a version to build") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  const std::uint16_t damaged = 0xdead;
  patch_file(dir / "ring", offsetof(format::FileIdentity, version_major), &damaged, sizeof damaged);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::version_mismatch);
  CHECK(message.find("has ring format version 57005.") != std::string::npos);
  CHECK(message.find("its identity checksum does not match: the header is likely damaged") != std::string::npos);
  CHECK(message.find("use a matching ringfile build") == std::string::npos);
}

TEST_CASE("a file of format version 1, whose records say nothing of their checksum, is refused") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  auto identity = read_identity(dir / "ring");
  identity.version_major = 1;
  identity.version_minor = 1;
  rewrite_identity(dir / "ring", identity);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::version_mismatch);
  CHECK(message.find("has ring format version 1.1; this build reads versions 2.x to 3.x") != std::string::npos);
}

TEST_CASE("a file of format version 2 opens, and takes no group frames") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  make_version_2(dir / "ring");
  const Ring ring = Ring::open(dir / "ring");
  CHECK(ring.info().version_major == 2);
  CHECK_FALSE(detail::file_of(ring).takes_group_frames());
  CHECK(detail::file_of(Ring::create(dir / "new", small_ring(1 << 20))).takes_group_frames());
}

TEST_CASE("a newer minor version still opens") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  auto identity = read_identity(dir / "ring");
  identity.version_minor = format::kVersionMinor + 1;
  rewrite_identity(dir / "ring", identity);
  CHECK_NOTHROW(Ring::open(dir / "ring"));
}

TEST_CASE("records above 1 GiB are refused: frame lengths are 32-bit, and a claim spans two frames") {
  TempDir dir;
  // A capacity that would hold them is no matter: no ring is made for them, sparse or not.
  CreateOptions options = small_ring(1 << 20);
  options.max_record_bytes = static_cast<std::uint32_t>(format::kMostRecordBytes + 1);
  try {
    Ring::create(dir / "big", options);
    FAIL("creating a ring for records above 1 GiB succeeded");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::invalid_argument);
    // In bytes: rounded, both sizes read 1.0 GiB.
    CHECK(std::string(error.what()).find("maximum record size 1073741825 bytes is above the largest the format takes "
                                         "(1073741824 bytes)") != std::string::npos);
  }
  // A file that says so (its capacity made to fit them, its checksum right) is damaged.
  Ring::create(dir / "ring", small_ring(1 << 20));
  auto identity = read_identity(dir / "ring");
  identity.max_record_bytes = 0xFFFFFFFFu;
  identity.data_capacity = std::uint64_t{8} << 30;
  rewrite_identity(dir / "ring", identity);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::corrupt);
  CHECK(message.find("above the format's largest") != std::string::npos);
}

TEST_CASE("a flipped bit in the identity is caught by its checksum") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  const std::uint8_t flipped = 0x41;
  patch_file(dir / "ring", offsetof(format::FileIdentity, max_record_bytes), &flipped, 1);
  CHECK(open_error(dir / "ring") == ErrorCode::corrupt);
}

TEST_CASE("truncated files") {
  TempDir dir;
  Ring::create(dir / "ring", small_ring(1 << 20));
  REQUIRE(::truncate((dir / "ring").c_str(), format::kHeaderSegmentBytes + (1 << 19)) == 0);
  std::string message;
  CHECK(open_error(dir / "ring", &message) == ErrorCode::truncated);
  CHECK(message.find("truncated") != std::string::npos);
  // The identity intact, the slot tables cut short.
  REQUIRE(::truncate((dir / "ring").c_str(), 20000) == 0);
  CHECK(open_error(dir / "ring", &message) == ErrorCode::truncated);
  CHECK(message.find("20000 bytes, but its header describes " +
                     std::to_string(format::kHeaderSegmentBytes + (1 << 20))) != std::string::npos);
  REQUIRE(::truncate((dir / "ring").c_str(), 100) == 0);
  CHECK(open_error(dir / "ring", &message) == ErrorCode::truncated);
  CHECK(message.find("shorter than the ring header") != std::string::npos);
}

TEST_CASE("a ring truncated while open is described for a SIGBUS handler, naming the file and both sizes") {
  TempDir dir;
  const auto path = dir / "ring";
  Ring ring = Ring::create(path, small_ring(1 << 20));
  char message[512];
  CHECK_FALSE(describe_truncated_ring(message, sizeof message));
  const std::uint64_t declared = format::kHeaderSegmentBytes + (1 << 20);
  REQUIRE(::truncate(path.c_str(), format::kHeaderSegmentBytes + 4096) == 0);
  REQUIRE(describe_truncated_ring(message, sizeof message));
  CHECK(std::string(message) == "'" + path.string() + "' was truncated to " +
                                    std::to_string(format::kHeaderSegmentBytes + 4096) +
                                    " bytes while in use (its header declares " + std::to_string(declared) +
                                    "); the ring is damaged: restore it from a complete copy or create a new ring");
  // Cut to the buffer, still terminated.
  char short_message[16];
  REQUIRE(describe_truncated_ring(short_message, sizeof short_message));
  CHECK(std::string(short_message) == ("'" + path.string()).substr(0, 15));
  // A closed ring is no longer looked at.
  ring = Ring::create(dir / "other", small_ring(1 << 20));
  CHECK_FALSE(describe_truncated_ring(message, sizeof message));
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
    auto& slot = detail::file_of(ring).header().consumers[5];
    slot.state = static_cast<std::uint32_t>(format::ConsumerState::detached);
    slot.flags = format::kConsumerNamed;
    std::memcpy(slot.name, "billing", 8);
    slot.cursor = 1ull << 40;  // far beyond the head (0)
  }
  {
    Ring other = Ring::create(dir / "other", small_ring(1 << 20));
    auto& misaligned = detail::file_of(other).header().consumers[6];
    misaligned.state = static_cast<std::uint32_t>(format::ConsumerState::detached);
    misaligned.cursor = 12;
  }
  std::string message;
  CHECK(open_error(dir / "other", &message) == ErrorCode::corrupt);
  CHECK(message.find("consumer slot 6") != std::string::npos);
  CHECK(message.find("aligned") != std::string::npos);

  // A cursor beyond the head is what a crash of the machine can leave (the header's pages
  // written back at different moments): the ring opens, and that consumer is told.
  Ring ring = Ring::open(dir / "ring");
  try {
    Consumer::attach(ring, {.name = "billing"});
    FAIL("attached at a cursor beyond the head");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::corrupt);
    CHECK(std::string(error.what()).find("beyond the ring's head 0") != std::string::npos);
    CHECK(std::string(error.what()).find("--from latest") != std::string::npos);
  }
  Consumer restarted = Consumer::attach(ring, {.name = "billing", .start = StartFrom::latest});
  CHECK(restarted.position() == 0);
}

TEST_CASE("a record length out of bounds stops the consumer with corrupt, never a crash") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20, WriterPolicy::block, 1000));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("fine")) == ClaimStatus::ok);
  REQUIRE(producer.write(as_bytes("to be damaged")) == ClaimStatus::ok);
  // Overwrite the second frame's commit word with a length far above the maximum record size.
  const detail::Geometry& geometry = detail::file_of(ring).geometry();
  const std::uint64_t second = format::frame_stride(format::kRecordHeaderBytes + 4);
  const std::uint64_t bad_word =
      format::make_commit_word(0x7fffffff, format::FrameType::data, geometry.tag_of(second));
  patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + second), &bad_word, sizeof bad_word);

  std::vector<std::string> seen;
  const PollResult polled = consumer.poll([&](const Record& record) {
    seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  });
  CHECK(seen == std::vector<std::string>{"fine"});
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(polled.error_message.find("position " + std::to_string(second)) != std::string::npos);
  CHECK(polled.error_message.find("maximum record size") != std::string::npos);
  // The next poll skips to the next record boundary (here the head), counting the loss.
  REQUIRE(producer.write(as_bytes("after the damage")) == ClaimStatus::ok);
  CHECK(consumer.poll([&](const Record& record) {
                  seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
                }).status == PollStatus::ok);
  CHECK(seen == std::vector<std::string>{"fine", "after the damage"});
  CHECK(consumer.stats().lost_bytes == format::frame_stride(format::kRecordHeaderBytes + 13));
}

TEST_CASE("an earlier lap's bytes that pass for a bad commit word in a claimed frame are not damage") {
  // Found by the fault suite: a consumer waiting at a claim read the 8 stale bytes where the
  // commit word goes, whose lap tag matched this lap's by chance (one in 2^24), and reported an
  // unknown frame type while the producer was filling the record.
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("before")) == ClaimStatus::ok);
  // At `position`: a commit word of this lap with a frame type that does not exist.
  const auto plant_stale_word = [&](std::uint64_t position) {
    constexpr auto kNoSuchType = static_cast<format::FrameType>(0x55);
    const std::uint64_t word =
        format::make_commit_word(1234, kNoSuchType, detail::file_of(ring).geometry().tag_of(position));
    patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + position), &word, sizeof word);
  };
  plant_stale_word(ring.head_position());

  ClaimResult claim = producer.claim(5, std::chrono::seconds(10));
  REQUIRE(claim.status == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"before"});
  const PollResult waiting = consumer.poll([](const Record&) {});
  CHECK(waiting.status == PollStatus::ok);
  CHECK(waiting.records == 0);
  std::memcpy(claim.buffer.data(), "after", 5);
  REQUIRE(producer.commit() == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"after"});
  // Without a claim over them the same bytes are damage, reported at once.
  const std::uint64_t unclaimed = ring.head_position();
  plant_stale_word(unclaimed);
  detail::atomic_field(detail::file_of(ring).header().head_position.value).store(unclaimed + 8);
  const PollResult damaged = consumer.poll([](const Record&) {});
  CHECK(damaged.status == PollStatus::corrupt);
  CHECK(damaged.error_message.find("unknown frame type") != std::string::npos);
}

TEST_CASE("bytes below the head that no producer claims are reported once the unblock timeout passes") {
  TempDir dir;
  CreateOptions options = small_ring(1 << 20);
  options.unblock_timeout = std::chrono::milliseconds(100);
  Ring ring = Ring::create(dir / "ring", options);
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  for (const char* text : {"one", "two", "three"}) REQUIRE(producer.write(as_bytes(text)) == ClaimStatus::ok);
  // The second record's commit word never reached the file (a crash of the machine).
  const std::uint64_t second = format::frame_stride(format::kRecordHeaderBytes + 3);
  const std::uint64_t zero = 0;
  patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + second), &zero, sizeof zero);

  std::vector<std::string> seen;
  const auto collect = [&](const Record& record) {
    seen.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
  };
  PollResult polled = consumer.poll(collect);
  CHECK(polled.status == PollStatus::ok);  // at first it may be a producer finishing its commit
  CHECK(polled.error_message.empty());
  CHECK(seen == std::vector<std::string>{"one"});
  // wait() returns once the hole has outlived the unblock timeout; poll reports it.
  const auto started = std::chrono::steady_clock::now();
  while (!consumer.wait(std::chrono::milliseconds(50))) {
    REQUIRE(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
  }
  polled = consumer.poll(collect);
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(polled.error_message.find("no producer claims") != std::string::npos);
  CHECK(consumer.poll(collect).status == PollStatus::ok);
  CHECK(seen == std::vector<std::string>{"one", "three"});
  CHECK(consumer.stats().lost_bytes == format::frame_stride(format::kRecordHeaderBytes + 3));
  CHECK(consumer.stats().lost_records == 1);  // by the producer's sequence numbers
}

TEST_CASE("a payload that no longer matches its checksum is reported") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  Consumer consumer = Consumer::attach(ring, {});
  Producer producer(ring);
  REQUIRE(producer.write(as_bytes("checksummed payload")) == ClaimStatus::ok);
  patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + format::kRecordHeaderBytes + 3), "X", 1);
  const PollResult polled = consumer.poll([](const Record&) {});
  CHECK(polled.status == PollStatus::corrupt);
  CHECK(consumer.stats().checksum_failures == 1);
  // Damage, or a claim filled in the mapping after its space was reused (found by a tester: the
  // message named damage alone).
  CHECK(polled.error_message.find("payload checksum mismatch; the file is damaged, or a producer went on filling a "
                                  "claim past the unblock timeout") != std::string::npos);
}

TEST_CASE("a FIFO is refused as not a ring, for reading too, without waiting for a writer") {
  TempDir dir;
  REQUIRE(::mkfifo((dir / "fifo").c_str(), 0600) == 0);
  CHECK(open_error(dir / "fifo") == ErrorCode::not_a_ring);
  try {
    Ring::open(dir / "fifo", {.read_only = true});  // an open for reading alone blocked here
    FAIL("opening a FIFO succeeded");
  } catch (const Error& error) {
    CHECK(error.code() == ErrorCode::not_a_ring);
  }
}

TEST_CASE("a process started with stdin, stdout and stderr closed never gets the ring in their place") {
  TempDir dir;
  Ring::create(dir / "made", small_ring(1 << 20));
  // In a child, which closes them, opens or creates a ring, and writes to stdout and stderr as
  // a program would (its output, an error message).
  for (const bool create : {false, true}) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(0);
      ::close(1);
      ::close(2);
      try {
        Ring ring = create ? Ring::create(dir / "created", small_ring(1 << 20)) : Ring::open(dir / "made");
        const char output[] = "output written to stdout and stderr";
        const bool written = ::write(1, output, sizeof output) == sizeof output &&
                             ::write(2, output, sizeof output) == sizeof output;
        ::_exit(written ? 0 : 2);
      } catch (...) {
        ::_exit(1);
      }
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  // Both rings are whole: the output went to /dev/null, not over their headers.
  CHECK_NOTHROW(Ring::open(dir / "made"));
  CHECK_NOTHROW(Ring::open(dir / "created"));
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

TEST_CASE("records past the head (a header older than the data after a crash) are not handed out") {
  TempDir dir;
  Ring ring = Ring::create(dir / "ring", small_ring(1 << 20));
  {
    Producer producer(ring);
    REQUIRE(producer.write(as_bytes("kept")) == ClaimStatus::ok);
    REQUIRE(producer.write(as_bytes("past the head")) == ClaimStatus::ok);
  }
  // The header page as written back before the second record: the head after the first. Then
  // the machine restarted: the session in the file is another boot's (ring_session_test.cpp).
  const std::uint64_t head = format::frame_stride(format::kRecordHeaderBytes + 4);
  patch_file(dir / "ring", offsetof(format::FileHeader, head_position), &head, sizeof head);
  const std::uint64_t another_boot = 1;
  patch_file(dir / "ring", offsetof(format::FileHeader, session), &another_boot, sizeof another_boot);
  Ring reopened = Ring::open(dir / "ring");
  Consumer consumer = Consumer::attach(reopened, {.start = StartFrom::earliest});
  CHECK(drain(consumer) == std::vector<std::string>{"kept"});
  CHECK_FALSE(consumer.wait(std::chrono::milliseconds(10)));
  // What producers write from the head on is what the consumer reads next.
  Producer producer(reopened);
  REQUIRE(producer.write(as_bytes("new")) == ClaimStatus::ok);
  CHECK(drain(consumer) == std::vector<std::string>{"new"});
}

TEST_CASE("a damaged stretch where the oldest intact record should be is passed, not everything after it") {
  // Found by the crash image tests: a reader from the earliest record met a page a crash of the
  // machine had left old, found no boundary in it, and started at the head, skipping every
  // intact record after the page.
  // A holding consumer starts at the oldest byte's boundary; a tap, which producers may lap, an
  // eighth of the ring further.
  for (const bool holds_back : {true, false}) {
    CAPTURE(holds_back);
    TempDir dir;
    Ring ring = Ring::create(dir / "ring", small_ring(64 * 1024, WriterPolicy::block, 1024));
    {
      Producer producer(ring);
      for (int index = 0; index < 300; ++index) {
        REQUIRE(producer.write(as_bytes(std::string(400, 'a') + std::to_string(index))) == ClaimStatus::ok);
      }
    }
    const std::uint64_t head = ring.head_position();
    const std::uint64_t capacity = ring.info().capacity_bytes;
    // Zeros where the earliest reader starts: from the oldest byte on (the page before it holds
    // the newest records), or the pages around the tap's start.
    const std::uint64_t start = head - capacity + (holds_back ? 0 : capacity / 8);
    const std::uint64_t damaged = holds_back ? start % capacity : (start % capacity) / 4096 * 4096;
    const std::vector<char> zeros(8192, 0);  // two pages: the whole stretch the scan looks at
    patch_file(dir / "ring", static_cast<off_t>(ring.info().data_offset + damaged), zeros.data(), zeros.size());
    Consumer consumer = Consumer::attach(ring, {.start = StartFrom::earliest, .holds_back = holds_back});
    const std::vector<std::string> read = drain(consumer);
    REQUIRE_FALSE(read.empty());
    CHECK(read.back() == std::string(400, 'a') + "299");
    CHECK(read.size() > 60);  // most of the lap after the damaged page
  }
}
