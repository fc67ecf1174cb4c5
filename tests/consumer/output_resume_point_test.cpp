// Where a named consumer's commits leave its --output file (consumer/output_resume_point.cpp):
// the attribute's text, whose it is, and when a restart cuts the file back.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "output_resume_point.hpp"

using namespace ringfile::consumer;

namespace {

const ResumeOwner kOwner{1'700'000'000'123'456'789, "billing"};

}  // namespace

TEST_CASE("output resume point: written for a ring and a name, read back by them only") {
  const std::string text = encode_resume_point(kOwner, {4096, 123});
  CHECK(text == "ringfile-resume 1 1700000000123456789 billing 4096 123");
  const std::optional<ResumePoint> read = decode_resume_point(text, kOwner);
  REQUIRE(read);
  CHECK(read->cursor == 4096);
  CHECK(read->output_bytes == 123);
  CHECK_FALSE(decode_resume_point(text, {kOwner.ring_creation_ns + 1, "billing"}));  // a ring created since
  CHECK_FALSE(decode_resume_point(text, {kOwner.ring_creation_ns, "audit"}));        // another name
  CHECK_FALSE(decode_resume_point(text, {kOwner.ring_creation_ns, "bill"}));
  for (const char* other : {"", "ringfile-resume", "ringfile-resume 2 1700000000123456789 billing 4096 123",
                            "ringfile-resume 1 1700000000123456789 billing 4096", "ringfile-resume 1 1700000000123456789 billing 4096 123 7",
                            "ringfile-resume 1 1700000000123456789 billing -4096 123",
                            "ringfile-resume 1 1700000000123456789 billing 4096 12x",
                            "ringfile-resume 1 1700000000123456789 billing 99999999999999999999999 123"}) {
    INFO(other);
    CHECK_FALSE(decode_resume_point(other, kOwner));
  }
}

TEST_CASE("output resume point: a file is cut back only where the run resumes at the cursor its point names") {
  const ResumePoint saved{4096, 1000};
  SUBCASE("killed after writing records out, before committing them: cut back") {
    CHECK(bytes_to_keep(saved, 4096, 1500) == std::optional<std::uint64_t>(1000));
  }
  SUBCASE("nothing written past it: nothing to cut") { CHECK_FALSE(bytes_to_keep(saved, 4096, 1000)); }
  SUBCASE("committed, killed before the point was noted: the file ends where the cursor left it") {
    CHECK_FALSE(bytes_to_keep(saved, 8192, 1500));
  }
  SUBCASE("a cursor moved back since (a reset): nothing of the file is cut") {
    CHECK_FALSE(bytes_to_keep(saved, 0, 1500));
  }
  SUBCASE("no point on the file") { CHECK_FALSE(bytes_to_keep(std::nullopt, 4096, 1500)); }
}

TEST_CASE("output resume point: kept on the file as an extended attribute") {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ringfile-resume-test-" + std::to_string(::getpid()));
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  const OutputResumeAttribute attribute(fd, kOwner);
  if (!attribute.store({4096, 10})) {
    MESSAGE("skipped: " << path.parent_path() << " keeps no user extended attributes (" << std::strerror(errno)
                        << ")");
  } else {
    REQUIRE(attribute.load());
    CHECK(attribute.load()->cursor == 4096);
    CHECK(attribute.store({8192, 20}));
    CHECK(attribute.load()->output_bytes == 20);
    CHECK_FALSE(OutputResumeAttribute(fd, {kOwner.ring_creation_ns, "audit"}).load());
    CHECK(attribute.remove());
    CHECK_FALSE(attribute.load());
    CHECK(attribute.remove());  // none left: nothing to do
  }
  ::close(fd);
  std::filesystem::remove(path);
}
