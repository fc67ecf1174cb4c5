#include "support/crash_images.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>

#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::program_test {
namespace {

constexpr std::size_t kPage = 4096;

std::uint64_t pid_of_nobody() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return static_cast<std::uint64_t>(child);
}

template <class Field>
void patch_field(int fd, std::size_t offset, Field value) {
  REQUIRE(::pwrite(fd, &value, sizeof value, static_cast<off_t>(offset)) == static_cast<ssize_t>(sizeof value));
}

}  // namespace

FileBytes read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const FileBytes& bytes) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  REQUIRE(file.good());
}

FileBytes mix_pages(const FileBytes& newest, const FileBytes& older, std::mt19937_64& random) {
  REQUIRE(newest.size() == older.size());
  FileBytes image = newest;
  for (std::size_t page = 0; page < image.size(); page += kPage) {
    const auto begin = static_cast<std::ptrdiff_t>(page);
    const auto end = static_cast<std::ptrdiff_t>(std::min(page + kPage, image.size()));
    if (!std::equal(newest.begin() + begin, newest.begin() + end, older.begin() + begin) && random() % 2 == 0) {
      std::copy(older.begin() + begin, older.begin() + end, image.begin() + begin);
    }
  }
  return image;
}

void forget_owners(const std::filesystem::path& ring) {
  using format::FileHeader;
  const std::uint64_t gone = pid_of_nobody();
  const int fd = ::open(ring.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  for (std::size_t index = 0; index < format::kProducerSlotCount; ++index) {
    const std::size_t slot = offsetof(FileHeader, producers) + index * sizeof(format::ProducerSlot);
    patch_field(fd, slot + offsetof(format::ProducerSlot, owner_pid), gone);
    patch_field(fd, slot + offsetof(format::ProducerSlot, owner_start_time), std::uint64_t{1});
  }
  for (std::size_t index = 0; index < format::kConsumerSlotCount; ++index) {
    const std::size_t slot = offsetof(FileHeader, consumers) + index * sizeof(format::ConsumerSlot);
    patch_field(fd, slot + offsetof(format::ConsumerSlot, owner_pid), gone);
    patch_field(fd, slot + offsetof(format::ConsumerSlot, owner_start_time), std::uint64_t{1});
  }
  ::close(fd);
}

void damage_consumer_slot(const std::filesystem::path& ring, std::uint64_t slot, std::size_t offset,
                          std::string_view bytes) {
  const int fd = ::open(ring.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  const auto at = static_cast<off_t>(offsetof(format::FileHeader, consumers) + slot * sizeof(format::ConsumerSlot) + offset);
  REQUIRE(::pwrite(fd, bytes.data(), bytes.size(), at) == static_cast<ssize_t>(bytes.size()));
  ::close(fd);
}

ImageRead read_image(const std::filesystem::path& ring, const ConsumerOptions& options, std::chrono::seconds limit) {
  ImageRead read;
  std::optional<Consumer> consumer;
  try {
    consumer.emplace(Consumer::attach(ring, options));
  } catch (const Error& error) {
    read.attach_error = error.what();
    return read;
  }
  SyntheticVerifier verifier;
  const auto handler = [&](const Record& record) {
    ++read.records;
    if (verifier.check(record.payload) == SyntheticCheck::corrupt) {
      ++read.corrupt_payloads;
      return;
    }
    std::uint64_t id = 0, sequence = 0;
    std::memcpy(&id, record.payload.data() + 8, sizeof id);
    std::memcpy(&sequence, record.payload.data() + 16, sizeof sequence);
    read.sequences[id].push_back(sequence);
  };
  const auto deadline = std::chrono::steady_clock::now() + limit;
  const std::uint64_t head = consumer->ring().head_position();
  while (consumer->position() < head) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                    "reading " << ring << " did not reach the head " << head << " within " << limit.count()
                               << " s (stuck at " << consumer->position() << ")");
    const PollResult polled = consumer->poll(handler);
    if (polled.status == PollStatus::corrupt) {
      ++read.damage_reports;
      continue;  // the next poll skips past it
    }
    if (polled.records == 0) consumer->wait(std::chrono::milliseconds(20));
  }
  read.lost_bytes = consumer->stats().lost_bytes;
  read.lost_records = consumer->stats().lost_records;
  read.missing = verifier.totals().missing;
  return read;
}

}  // namespace ringfile::program_test
