// The `pwrite` kind: each record goes in with pwrite() at its offset, no mapping. A write of whole
// pages does not read the old page first (only partial pages at a record's edges need it, and
// the neighbouring record has just brought those in), so this is the after-wrap baseline.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "ringfile/programs/program.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/file_descriptor.hpp"
#include "wrap/baseline_ring.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

class PwriteWriter final : public RingWriter {
 public:
  PwriteWriter(system::FileDescriptor file, std::uint64_t ring_bytes)
      : file_(std::move(file)), ring_bytes_(ring_bytes) {}

  bool write(std::span<const std::byte> record) noexcept override {
    std::uint64_t offset = position_ % ring_bytes_;
    std::span<const std::byte> remaining = record;
    while (!remaining.empty()) {
      // At the end of the file the record continues at offset 0: two pwrites.
      const std::size_t part =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining.size(), ring_bytes_ - offset));
      const ssize_t written =
          ::pwrite(file_.get(), remaining.data(), part, static_cast<off_t>(offset));
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        error_number_ = written < 0 ? errno : EIO;
        return false;
      }
      remaining = remaining.subspan(static_cast<std::size_t>(written));
      offset = (offset + static_cast<std::uint64_t>(written)) % ring_bytes_;
    }
    position_ += record.size();
    return true;
  }

  std::string error_message() const override {
    return system::describe_errno("pwrite at byte " + std::to_string(position_ % ring_bytes_),
                          error_number_);
  }
  std::uint64_t ring_bytes_advanced() const noexcept override { return position_; }

 private:
  system::FileDescriptor file_;
  std::uint64_t ring_bytes_;
  std::uint64_t position_ = 0;
  int error_number_ = 0;
};

std::unique_ptr<RingWriter> open_pwrite_writer(const RingSetup& setup) {
  system::FileDescriptor file(::open(setup.path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file.valid()) throw programs::RuntimeFailure(system::describe_errno("cannot open " + setup.path.string(), errno));
  return std::make_unique<PwriteWriter>(std::move(file), setup.ring_bytes);
}

}  // namespace

const WriterKind kPwriteKind{
    "pwrite",
    "pwrite() of each record at its offset, no mapping",
    create_preallocated_ring_file,
    open_pwrite_writer,
    open_pread_follower,
    false,    // the harness makes the writer wait for its reader
    nullptr,  // no reader for history: replay is ringfile's
};

}  // namespace ringfile::bench::wrap
