// How a producer's payloads reach the ring: copied into the frame with their checksum, staged
// in a buffer of its own for a large claim, or written into the file with pwrite() from 64 KiB on,
// looking at the file's size around each such write (docs/truncation.md).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <new>

#include "crc32c_in_ring.hpp"
#include "housekeeper.hpp"
#include "producer_core.hpp"
#include "ring_file.hpp"
#include "ringfile/crc32c.hpp"

namespace ringfile::detail {

using format::kRecordHeaderBytes;

std::uint32_t ProducerCore::copy_into_frame(std::byte* to, std::span<const std::byte> payload) const noexcept {
  if (!options_.compute_checksums) {
    if (!payload.empty()) std::memcpy(to, payload.data(), payload.size());
    return 0;
  }
  if (payload.size() >= kStagedCopyThreshold && crc32c_folds_wide()) {
    // As a claim of this size is filled there (see kStagedCopyThreshold): copied, then checksummed
    // where it lies. Between two processes on a Xeon, four rounds against copy_with_crc32c's one
    // pass: write() 14-20% faster a round at 4 KiB, 17-41% at 16 KiB; write_batch() 51-72% at
    // 4 KiB and 42-71% at 16 KiB, 0-25% at 1 KiB (bench/README.md, "Medium payloads copied, then
    // checksummed").
    std::memcpy(to, payload.data(), payload.size());
    return crc32c({to, payload.size()});
  }
  return copy_with_crc32c(to, payload);
}

void ProducerCore::note_fill_in_place() noexcept {
  if (fills_in_place_) return;
  fills_in_place_ = true;
  pager_.fill_prepared_with_zeros();
  if (housekeeper_ != nullptr) housekeeper_->producer_fills_in_place();
}

std::span<std::byte> ProducerCore::staging_buffer(std::size_t payload_bytes) noexcept {
  if (payload_bytes > kMostStagedBytes) return {};
  if (staging_bytes_ < payload_bytes) {
    // Grown to the largest claim so far, once per size: not on the path of every record.
    staging_.reset(static_cast<std::byte*>(::operator new[](payload_bytes, std::align_val_t{4096}, std::nothrow)));
    staging_bytes_ = staging_ ? payload_bytes : 0;
    if (!staging_) return {};
  }
  return {staging_.get(), payload_bytes};
}

bool ProducerCore::write_through_file(std::span<const std::byte> payload) noexcept {
  const auto offset = static_cast<off_t>(file_.info().data_offset + geometry_.offset_of(claim_position_) +
                                         kRecordHeaderBytes);
  // A file cut short under us (docs/truncation.md) would be extended again by the pwrite, past
  // the cut, with a hole below it where the records were: nothing would fault, and the records
  // and the ring's end would be lost unseen. A look at the size before and after each write finds
  // the cut; the write of a large record takes far longer than the two looks.
  if (file_cut_short()) return false;
  std::size_t written = 0;
  while (written < payload.size()) {
    const ssize_t result = ::pwrite(file_.fd(), payload.data() + written, payload.size() - written,
                                    offset + static_cast<off_t>(written));
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) return false;
    written += static_cast<std::size_t>(result);
  }
  return !file_cut_short();
}

bool ProducerCore::file_cut_short() noexcept {
  struct stat status {};
  if (::fstat(file_.fd(), &status) != 0) return true;  // errno says why
  if (static_cast<std::uint64_t>(status.st_size) >= file_.info().data_offset + geometry_.capacity) return false;
  truncated_ = true;
  errno = EIO;
  return true;
}

}  // namespace ringfile::detail
