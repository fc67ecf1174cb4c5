#include "wrap/baseline_ring.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "support/file_descriptor.hpp"
#include "support/setup_error.hpp"
#include "wrap/record_stamp.hpp"

namespace ringfile::bench::wrap {

namespace {

// Reads the ring's records in order with pread(); skips ahead when the writer has lapped it.
class PreadFollower final : public RingReader {
 public:
  PreadFollower(FileDescriptor file, const RingSetup& setup)
      : file_(std::move(file)),
        ring_bytes_(setup.ring_bytes),
        record_bytes_(setup.record_bytes),
        record_(setup.record_bytes) {}

  std::size_t poll(const PublishedRecords& published, ReadProgress& progress) noexcept override {
    // Bounded, so the harness gets to check for the end of the run now and then.
    constexpr std::size_t kMaxRecordsPerPoll = 64;
    std::size_t records_this_poll = 0;
    while (records_this_poll < kMaxRecordsPerPoll) {
      const std::uint64_t published_count = published.load();
      if (next_record_ >= published_count) break;
      if (overwritten(next_record_, published_count)) {
        // Behind by a lap: everything up to the record being written now is gone or going.
        progress.records_lost += published_count - next_record_;
        next_record_ = published_count;
        break;
      }
      if (!read_record(next_record_)) return records_this_poll;
      // The writer may have come round while we copied; then the copy is not trustworthy.
      if (overwritten(next_record_, published.load())) {
        ++progress.records_lost;
      } else if (record_sequence(record_) != next_record_) {
        ++progress.records_mismatched;
      } else {
        ++progress.records_read;
      }
      ++next_record_;
      ++records_this_poll;
    }
    return records_this_poll;
  }

 private:
  // The writer is busy with record `published_count`, so it has reached the end of that record's
  // bytes at most; our record is intact while those bytes stay within one lap of its start.
  bool overwritten(std::uint64_t record, std::uint64_t published_count) const noexcept {
    return (published_count + 1) * record_bytes_ > record * record_bytes_ + ring_bytes_;
  }

  bool read_record(std::uint64_t record) noexcept {
    std::uint64_t offset = (record * record_bytes_) % ring_bytes_;
    std::size_t copied = 0;
    while (copied < record_.size()) {
      const std::size_t wanted = static_cast<std::size_t>(
          std::min<std::uint64_t>(record_.size() - copied, ring_bytes_ - offset));
      const ssize_t got =
          ::pread(file_.get(), record_.data() + copied, wanted, static_cast<off_t>(offset));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return false;
      copied += static_cast<std::size_t>(got);
      offset = (offset + static_cast<std::uint64_t>(got)) % ring_bytes_;
    }
    return true;
  }

  FileDescriptor file_;
  std::uint64_t ring_bytes_;
  std::uint64_t record_bytes_;
  std::vector<std::byte> record_;
  std::uint64_t next_record_ = 0;
};

}  // namespace

void create_preallocated_ring_file(const RingSetup& setup) {
  FileDescriptor file(::open(setup.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!file.valid())
    throw SetupError(describe_errno("cannot create " + setup.path.string(), errno));
  // Mode 0 reserves real blocks (as unwritten extents: reading them costs no disk I/O), so the
  // first lap does not allocate and write-back can never fail with ENOSPC.
  if (::fallocate(file.get(), 0, 0, static_cast<off_t>(setup.ring_bytes)) != 0) {
    const int error_number = errno;
    ::unlink(setup.path.c_str());
    throw SetupError(describe_errno("cannot reserve " + std::to_string(setup.ring_bytes) +
                                        " bytes for " + setup.path.string() +
                                        " (free space? --dir on another disk?)",
                                    error_number));
  }
}

std::unique_ptr<RingReader> open_pread_follower(const RingSetup& setup) {
  FileDescriptor file(::open(setup.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) throw SetupError(describe_errno("cannot open " + setup.path.string(), errno));
  return std::make_unique<PreadFollower>(std::move(file), setup);
}

}  // namespace ringfile::bench::wrap
