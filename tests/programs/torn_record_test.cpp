// Crash images built page by page around one record, as a crash of the machine can leave it: the
// page with the start of its header (the commit word) written back and the page with the rest of
// the header and the payload not, or the reverse, or its stored checksum read as zero. No such
// record may be handed out: a reader reports the damage, skips it counting the loss, and hands
// out every record whose pages all survived. The random machine crash images
// (crash_image_test.cpp) meet these cases now and then; here each is built on purpose.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/tooling/synthetic.hpp"
#include "support/crash_images.hpp"
#include "support/json_value.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

using namespace ringfile;
using namespace ringfile::program_test;

namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kProducerId = 7;

struct Frame {
  std::uint64_t sequence;
  std::uint64_t position;
  std::uint64_t stride;
};

// Which part of the file the crash leaves older than the rest.
enum class Older {
  first_page,     // the page where the torn record's header starts (its commit word)
  second_page,    // the next page: the rest of its header (from `header_offset` on) and its payload
  stored_crc,     // only the four bytes of its payload_crc32c, read back as zero
};

struct TornCase {
  const char* name;
  std::uint64_t header_offset;  // of the torn record in its page: the header straddles at 4096
  Older older;
};

// A ring whose second record starts `header_offset` bytes into the first data page, followed by
// records that fill the next three pages. `snapshot` receives the file as it was before the second
// record was claimed: the older content of the first two pages.
std::vector<Frame> write_ring(const std::string& path, std::uint64_t header_offset, bool checksum, FileBytes* snapshot) {
  CreateOptions create{.capacity_bytes = 64 * kKiB, .max_record_bytes = 4096};
  create.unblock_timeout = std::chrono::milliseconds(100);  // the unwritten commit word is damage this soon
  Ring ring = Ring::create(path, create);
  Producer producer(ring, {.compute_checksums = checksum});
  std::vector<Frame> frames;
  std::vector<std::byte> payload(4096);
  const auto write = [&](std::size_t size) {
    const std::uint64_t sequence = frames.size();
    fill_synthetic({payload.data(), size}, kProducerId, sequence);
    const std::uint64_t position = ring.head_position();
    REQUIRE(producer.write({payload.data(), size}) == ClaimStatus::ok);
    frames.push_back({sequence, position, format::frame_stride(format::kRecordHeaderBytes + size)});
  };
  write(header_offset - format::kRecordHeaderBytes);  // the first record ends where the second starts
  *snapshot = read_bytes(path);
  while (ring.head_position() < 4 * kPage) write(1000);
  return frames;
}

// The frame's bytes in the image are the ones its producer wrote.
bool survived(const Frame& frame, const FileBytes& image, const FileBytes& written) {
  const auto begin = static_cast<std::ptrdiff_t>(format::kHeaderSegmentBytes + frame.position);
  const auto end = begin + static_cast<std::ptrdiff_t>(frame.stride);
  return std::equal(image.begin() + begin, image.begin() + end, written.begin() + begin);
}

void check_torn_case(const TornCase& torn, bool checksum) {
  WorkDir dir;
  const std::string path = dir / "ring";
  FileBytes older;
  const std::vector<Frame> frames = write_ring(path, torn.header_offset, checksum, &older);
  const Frame& victim = frames.at(1);
  REQUIRE(victim.position == torn.header_offset);
  const FileBytes written = read_bytes(path);
  FileBytes image = written;
  const std::uint64_t data_offset = format::kHeaderSegmentBytes;
  // Data-area bytes [begin, end) of the image are taken from the older file.
  std::uint64_t begin = 0, end = 0;
  switch (torn.older) {
    case Older::first_page: begin = 0, end = kPage; break;
    case Older::second_page: begin = kPage, end = 2 * kPage; break;
    case Older::stored_crc:
      begin = victim.position + offsetof(format::RecordHeader, payload_crc32c);
      end = begin + sizeof(std::uint32_t);
      break;
  }
  std::copy(older.begin() + static_cast<std::ptrdiff_t>(data_offset + begin),
            older.begin() + static_cast<std::ptrdiff_t>(data_offset + end),
            image.begin() + static_cast<std::ptrdiff_t>(data_offset + begin));
  const std::string copy = dir / "image";
  const std::string for_program = dir / "image-for-program";
  for (const std::string& name : {copy, for_program}) {
    write_bytes(name, image);
    forget_owners(name);
  }

  const ImageRead read = read_image(copy, {.start = StartFrom::earliest});
  REQUIRE_FALSE(read.attach_error.has_value());
  CHECK(read.corrupt_payloads == 0);  // nothing damaged handed out
  CHECK(read.damage_reports >= 1);
  CHECK(read.lost_bytes > 0);
  // Every record whose bytes all survived is handed out, and nothing else.
  std::set<std::uint64_t> expected;
  for (const Frame& frame : frames) {
    if (survived(frame, image, written)) expected.insert(frame.sequence);
  }
  REQUIRE_FALSE(expected.contains(victim.sequence));
  const auto found = read.sequences.find(kProducerId);
  const std::set<std::uint64_t> delivered =
      found == read.sequences.end() ? std::set<std::uint64_t>{} : std::set<std::uint64_t>(found->second.begin(), found->second.end());
  CHECK(delivered == expected);
  REQUIRE(*expected.rbegin() == frames.size() - 1);  // the last record survived: every loss is a gap
  CHECK(read.missing == frames.size() - expected.size());

  // ringfile-consumer reads on past the damage when asked to, handing out nothing corrupt.
  const Result program = run(kConsumer, {for_program, "--from", "earliest", "--verify", "--skip-damaged",
                                         "--until-idle", "300ms", "--json", "--quiet"}, dir.path());
  INFO(program.err);
  CHECK(program.exit_code == 0);
  const JsonValue summary = JsonValue::parse(program.out);
  const JsonValue& verify = summary["verify"];
  CHECK(verify["corrupt"].as_uint() == 0);
  CHECK(verify["records"].as_uint() == expected.size());
  // The damage it passed is counted as such, not as lapping, which cannot happen here (found by
  // a tester: "lost to lapping" under the block policy, nothing about the damage).
  CHECK(summary["damaged_skipped"].as_uint() >= 1);
  CHECK(verify["damaged_skipped"].as_uint() == summary["damaged_skipped"].as_uint());
  const Result said = run(kConsumer, {for_program, "--from", "earliest", "--verify", "--skip-damaged",
                                      "--until-idle", "300ms", "--discard"}, dir.path());
  CHECK(said.err.find("to lapping") == std::string::npos);
  CHECK(said.err.find("damaged stretch") != std::string::npos);
}

const TornCase kTornCases[] = {
    // The position field (bytes 8-15) still on the commit word's page: only the checksum tells.
    {"commit word and position new, the rest of the header (at +32) and the payload old", kPage - 32, Older::second_page},
    {"commit word and position new, the rest of the header (at +24) and the payload old", kPage - 24, Older::second_page},
    {"commit word and position new, the rest of the header (at +16) and the payload old", kPage - 16, Older::second_page},
    {"commit word new, the rest of the header (at +8) and the payload old", kPage - 8, Older::second_page},
    {"header whole on the new page, the payload old", kPage - 40, Older::second_page},
    {"the reverse: commit word old, the rest of the header and the payload new", kPage - 24, Older::first_page},
    {"header and payload new but the stored checksum read as zero", kPage - 24, Older::stored_crc},
};

}  // namespace

TEST_CASE("torn record headers in crash images: a checksummed record is never handed out damaged") {
  for (const TornCase& torn : kTornCases) {
    INFO(std::string(torn.name));
    check_torn_case(torn, true);
  }
}

TEST_CASE("a ring written without checksums is read whole: the unchecked records are not taken for damage") {
  WorkDir dir;
  FileBytes older;
  const std::vector<Frame> frames = write_ring(dir / "ring", kPage - 24, false, &older);
  const ImageRead read = read_image(dir / "ring", {.start = StartFrom::earliest});
  REQUIRE_FALSE(read.attach_error.has_value());
  CHECK(read.corrupt_payloads == 0);
  CHECK(read.damage_reports == 0);
  CHECK(read.records == frames.size());
  CHECK(read.missing == 0);
}

TEST_CASE("a hole below the head keeps --until-idle waiting: the run ends in the damage report, not in success") {
  // Found by two testers: --until-idle shorter than the unblock timeout ended with exit 0 and
  // "verify OK" at an uncommitted frame below the head, everything after it unread.
  WorkDir dir;
  const std::string path = dir / "ring";
  std::uint64_t victim = 0;
  {
    CreateOptions create{.capacity_bytes = 64 * kKiB, .max_record_bytes = 4096};
    create.unblock_timeout = std::chrono::seconds(1);  // longer than the --until-idle below
    Ring ring = Ring::create(path, create);
    Producer producer(ring);
    std::vector<std::byte> payload(500);
    for (std::uint64_t sequence = 0; sequence < 20; ++sequence) {
      if (sequence == 5) victim = ring.head_position();
      fill_synthetic(payload, kProducerId, sequence);
      REQUIRE(producer.write(payload) == ClaimStatus::ok);
    }
  }
  // Its commit word never written back, as a crash of the machine can leave it.
  FileBytes image = read_bytes(path);
  std::fill_n(image.begin() + static_cast<std::ptrdiff_t>(format::kHeaderSegmentBytes + victim),
              sizeof(std::uint32_t), char{0});
  write_bytes(path, image);
  forget_owners(path);

  const Result stopped = run(kConsumer, {path, "--from", "earliest", "--verify", "--until-idle", "300ms", "--quiet"},
                             dir.path());
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.err.find("corrupt record at position " + std::to_string(victim)) != std::string::npos);
  const Result skipped = run(kConsumer, {path, "--from", "earliest", "--verify", "--skip-damaged", "--until-idle",
                                         "300ms", "--json", "--quiet"},
                             dir.path());
  INFO(skipped.err);
  CHECK(skipped.exit_code == 0);
  const JsonValue summary = JsonValue::parse(skipped.out);
  CHECK(summary["verify"]["records"].as_uint() == 19);  // all but the one whose commit is gone
  CHECK(summary["damaged_skipped"].as_uint() == 1);
}
