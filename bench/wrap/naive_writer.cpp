// The `naive` kind: the motivating workload as it was reported. The ring file is mapped with
// boost::interprocess in sliding views of view_bytes; each record is a plain memcpy into the
// MAP_SHARED view. After the first lap every page the writer touches has been evicted, so each
// store faults and the kernel reads the old page from disk before the writer may overwrite it.
#include <unistd.h>

#include <algorithm>
#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <cstring>
#include <optional>

#include "ringfile/programs/program.hpp"
#include "wrap/baseline_ring.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

namespace bip = boost::interprocess;

class NaiveMappedWriter final : public RingWriter {
 public:
  explicit NaiveMappedWriter(const RingSetup& setup)
      : file_(setup.path.c_str(), bip::read_write),
        ring_bytes_(setup.ring_bytes),
        view_bytes_(std::min(setup.view_bytes, setup.ring_bytes)),
        page_bytes_(static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE))) {}

  bool write(std::span<const std::byte> record) noexcept override {
    std::uint64_t offset = position_ % ring_bytes_;
    std::span<const std::byte> remaining = record;
    while (!remaining.empty()) {
      if (!view_covers(offset) && !slide_view_to(offset)) return false;
      const std::uint64_t view_end = view_offset_ + current_view_->get_size();
      const std::size_t part =
          static_cast<std::size_t>(std::min<std::uint64_t>(remaining.size(), view_end - offset));
      auto* const destination = static_cast<std::byte*>(current_view_->get_address());
      std::memcpy(destination + (offset - view_offset_), remaining.data(), part);
      remaining = remaining.subspan(part);
      offset = (offset + part) % ring_bytes_;
    }
    position_ += record.size();
    // The view the record started in stayed mapped beside the new one while the record crossed
    // between them (the end of the file and its start, at the wrap); now it can go.
    previous_view_.reset();
    return true;
  }

  std::string error_message() const override { return error_message_; }
  std::uint64_t ring_bytes_advanced() const noexcept override { return position_; }

 private:
  bool view_covers(std::uint64_t offset) const noexcept {
    return current_view_ && offset >= view_offset_ &&
           offset < view_offset_ + current_view_->get_size();
  }

  // Maps the next view at `offset` (rounded down to a page), clamped to the end of the file.
  bool slide_view_to(std::uint64_t offset) noexcept {
    const std::uint64_t view_start = offset - offset % page_bytes_;
    const std::uint64_t length = std::min(view_bytes_, ring_bytes_ - view_start);
    try {
      previous_view_ = std::move(current_view_);
      current_view_.emplace(file_, bip::read_write, static_cast<bip::offset_t>(view_start),
                            static_cast<std::size_t>(length));
    } catch (const std::exception& failure) {
      // A failed mmap every view_bytes is a setup-class failure reported once, not a hot-path
      // error path: boost reports it only by throwing.
      error_message_ = "cannot map " + std::to_string(length) + " bytes at " +
                       std::to_string(view_start) + ": " + failure.what();
      return false;
    }
    view_offset_ = view_start;
    return true;
  }

  bip::file_mapping file_;
  std::uint64_t ring_bytes_;
  std::uint64_t view_bytes_;
  std::uint64_t page_bytes_;
  std::optional<bip::mapped_region> current_view_;
  std::optional<bip::mapped_region> previous_view_;
  std::uint64_t view_offset_ = 0;
  std::uint64_t position_ = 0;  // bytes written since the start; the offset is this mod ring_bytes
  std::string error_message_;
};

std::unique_ptr<RingWriter> open_naive_writer(const RingSetup& setup) {
  try {
    return std::make_unique<NaiveMappedWriter>(setup);
  } catch (const bip::interprocess_exception& failure) {
    throw programs::RuntimeFailure("cannot open " + setup.path.string() + " for mapping: " + failure.what());
  }
}

}  // namespace

const WriterKind kNaiveKind{
    "naive",
    "memcpy into MAP_SHARED boost::interprocess views that slide along the file",
    create_preallocated_ring_file,
    open_naive_writer,
    open_pread_follower,
    false,    // the harness makes the writer wait for its reader
    nullptr,  // no reader for history: replay is ringfile's
};

}  // namespace ringfile::bench::wrap
