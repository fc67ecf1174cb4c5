#include "fuzz_ring_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"

namespace ringfile::fuzz {
namespace {

constexpr std::size_t kHeaderInputBytes = sizeof(format::FileHeader);
constexpr std::uint64_t kSmallestCapacity = 64 * 1024;
constexpr std::uint64_t kLargestFuzzedCapacity = 1 << 20;

void write_all(int fd, const void* bytes, std::size_t size, off_t offset) {
  const auto* cursor = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t written = ::pwrite(fd, cursor, size, offset);
    if (written <= 0) {
      std::perror("fuzz: writing the ring file");
      std::abort();
    }
    cursor += written;
    size -= static_cast<std::size_t>(written);
    offset += written;
  }
}

}  // namespace

void write_ring_file(std::span<const std::uint8_t> input, const std::filesystem::path& path) {
  std::vector<std::uint8_t> header(format::kHeaderSegmentBytes, 0);
  std::memcpy(header.data(), input.data(), std::min(input.size(), kHeaderInputBytes));
  format::FileIdentity identity{};
  std::memcpy(&identity, header.data(), sizeof identity);
  identity.identity_crc32c =
      crc32c({reinterpret_cast<const std::byte*>(&identity), offsetof(format::FileIdentity, identity_crc32c)});
  std::memcpy(header.data(), &identity, sizeof identity);

  const std::span<const std::uint8_t> data = input.size() > kHeaderInputBytes ? input.subspan(kHeaderInputBytes)
                                                                               : std::span<const std::uint8_t>{};
  const std::uint64_t capacity = identity.data_capacity;
  const bool sized = capacity >= kSmallestCapacity && capacity <= kLargestFuzzedCapacity && capacity % 4096 == 0;
  const std::uint64_t data_bytes = sized ? capacity : data.size();

  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    std::perror("fuzz: creating the ring file");
    std::abort();
  }
  write_all(fd, header.data(), header.size(), 0);
  write_all(fd, data.data(), std::min<std::uint64_t>(data.size(), data_bytes), static_cast<off_t>(header.size()));
  if (::ftruncate(fd, static_cast<off_t>(header.size() + data_bytes)) != 0) std::abort();
  ::close(fd);
}

std::optional<Ring> open_fuzzed_ring(std::span<const std::uint8_t> input, const OpenOptions& options) {
  write_ring_file(input, scratch_ring_path());
  std::optional<Ring> ring;
  try {
    ring.emplace(Ring::open(scratch_ring_path(), options));
  } catch (const Error&) {
    return std::nullopt;
  }
  require_guarded_mappings();
  return ring;
}

std::vector<std::uint8_t> encode_ring_file(const std::vector<std::uint8_t>& file_bytes) {
  if (file_bytes.size() < format::kHeaderSegmentBytes) throw std::invalid_argument("not a ring file");
  std::vector<std::uint8_t> input(file_bytes.begin(), file_bytes.begin() + kHeaderInputBytes);
  auto data_end = file_bytes.end();
  const auto data_begin = file_bytes.begin() + static_cast<std::ptrdiff_t>(format::kHeaderSegmentBytes);
  while (data_end != data_begin && *(data_end - 1) == 0) --data_end;
  input.insert(input.end(), data_begin, data_end);
  return input;
}

const std::filesystem::path& scratch_ring_path() {
  static const std::filesystem::path path = [] {
    const char* base = std::getenv("TMPDIR");
    std::string directory = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : (base != nullptr ? base : "/tmp");
    directory += "/ringfile-fuzz-XXXXXX";
    if (::mkdtemp(directory.data()) == nullptr) std::abort();
    static const std::string removed_at_exit = directory;
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(removed_at_exit, ignored);
    });
    return std::filesystem::path(directory) / "ring";
  }();
  return path;
}

void read_every_record(const Ring& ring, const ConsumerOptions& options, bool patient) {
  std::optional<Consumer> consumer;
  try {
    consumer.emplace(Consumer::attach(ring, options));
  } catch (const Error&) {
    return;
  }
  // Frames are at least 8 bytes and a consumer reads at most about a lap of the data area;
  // more than twice that is a loop.
  const std::uint64_t most_records = 2 * ring.info().capacity_bytes / format::kFrameAlignment + 16;
  std::uint64_t records = 0;
  std::uint64_t payload_sum = 0;
  const auto handler = [&](const Record& record) {
    for (const std::byte value : record.payload) payload_sum += static_cast<std::uint8_t>(value);
    ++records;
  };
  int patience = patient ? 1 : 0;
  for (;;) {
    const PollResult polled = consumer->poll(handler);
    if (records > most_records) {
      std::fprintf(stderr, "fuzz: %llu records from a ring that holds at most %llu: an endless loop\n",
                   static_cast<unsigned long long>(records), static_cast<unsigned long long>(most_records));
      std::abort();
    }
    if (polled.status != PollStatus::ok) break;
    if (polled.records > 0) continue;
    if (patience-- <= 0 || consumer->position() >= ring.head_position()) break;
    std::this_thread::sleep_for(std::chrono::microseconds(1100));
    consumer->wait(std::chrono::nanoseconds(0));
  }
  (void)consumer->lag();
  // Keeps the sum alive so that the payload reads are not optimised away.
  if (payload_sum == 1) std::fputs("", stderr);
}

}  // namespace ringfile::fuzz
