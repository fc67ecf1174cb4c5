#include "wrap/baseline_ring.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "ringfile/system/page_cache.hpp"
#include "wrap/record_stamp.hpp"

namespace ringfile::bench::wrap {

namespace {

// Reads the ring's records in order with pread() and checks each. Its writer waits until it has
// read what a record would overwrite (the harness does that: these kinds do not hold writers
// back themselves), so every record it reads is intact.
class PreadFollower final : public RingReader {
 public:
  PreadFollower(system::FileDescriptor file, const RingSetup& setup)
      : file_(std::move(file)),
        ring_bytes_(setup.ring_bytes),
        record_bytes_(setup.record_bytes),
        records_per_poll_(setup.records_per_poll),
        record_(setup.record_bytes),
        check_(setup.record_bytes, setup.reader_work_passes) {}

  std::size_t poll(const PublishedRecords& published, ReadProgress& progress) noexcept override {
    // Bounded, so the harness gets to publish progress and check for the end of the run.
    std::size_t records_this_poll = 0;
    while (records_this_poll < records_per_poll_ && next_record_ < published.load()) {
      if (!read_record(next_record_)) return records_this_poll;
      if (check_.check(record_, next_record_)) {
        ++progress.records_read;
      } else {
        ++progress.records_mismatched;
      }
      ++next_record_;
      ++records_this_poll;
    }
    return records_this_poll;
  }

  std::optional<UnreadBytes> unread_bytes(const PublishedRecords& published) const noexcept override {
    const std::uint64_t published_count = published.load();
    UnreadBytes bytes;
    if (published_count <= next_record_) return bytes;
    bytes.unread = std::min((published_count - next_record_) * record_bytes_, ring_bytes_);
    // The unread records run from the next one's offset, possibly past the end of the file and on
    // from its start.
    const std::uint64_t offset = (next_record_ * record_bytes_) % ring_bytes_;
    const std::uint64_t first_part = std::min(bytes.unread, ring_bytes_ - offset);
    const auto first_cached = system::cached_bytes(file_.get(), offset, first_part);
    const auto second_cached = system::cached_bytes(file_.get(), 0, bytes.unread - first_part);
    if (!first_cached || !second_cached) return std::nullopt;
    bytes.cached = *first_cached + *second_cached;
    return bytes;
  }

 private:
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

  system::FileDescriptor file_;
  std::uint64_t ring_bytes_;
  std::uint64_t record_bytes_;
  std::size_t records_per_poll_;
  std::vector<std::byte> record_;
  RecordCheck check_;
  std::uint64_t next_record_ = 0;
};

}  // namespace

std::string create_preallocated_ring_file(const RingSetup& setup) {
  system::FileDescriptor file(::open(setup.path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!file.valid())
    throw programs::RuntimeFailure(system::describe_errno("cannot create " + setup.path.string(), errno));
  // Mode 0 reserves real blocks (as unwritten extents: reading them costs no disk I/O), so the
  // first lap does not allocate and write-back can never fail with ENOSPC.
  if (::fallocate(file.get(), 0, 0, static_cast<off_t>(setup.ring_bytes)) != 0) {
    const int error_number = errno;
    ::unlink(setup.path.c_str());
    throw programs::RuntimeFailure(system::describe_errno("cannot reserve " + std::to_string(setup.ring_bytes) +
                                        " bytes for " + setup.path.string() +
                                        " (free space? --dir on another disk?)",
                                    error_number));
  }
  return "";
}

std::unique_ptr<RingReader> open_pread_follower(const RingSetup& setup) {
  system::FileDescriptor file(::open(setup.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) throw programs::RuntimeFailure(system::describe_errno("cannot open " + setup.path.string(), errno));
  return std::make_unique<PreadFollower>(std::move(file), setup);
}

}  // namespace ringfile::bench::wrap
