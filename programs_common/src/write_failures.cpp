#include "ringfile/programs/write_failures.hpp"

#include <cerrno>
#include <cstring>
#include <optional>

#include "ringfile/truncated_rings.hpp"

namespace ringfile::programs {
namespace {

std::string quoted_path(const Ring& ring) { return "'" + ring.info().path.string() + "'"; }

// A record of 64 KiB or more is written with pwrite(), which finds a file cut short under it (the
// library then says EIO) where the mapping would have raised SIGBUS: said as the handler says it.
std::optional<std::string> truncation(int error) {
  char line[512];
  if (error == EIO && describe_truncated_ring(line, sizeof line)) return std::string(line);
  return std::nullopt;
}

}  // namespace

std::string claim_failure(const Ring& ring, ClaimStatus status, int error) {
  if (status == ClaimStatus::corrupt) {
    return quoted_path(ring) +
           ": its head position was damaged while this producer had it open, so nothing more is written; check it "
           "with ringfile-status";
  }
  // write() of a large record: its pwrite() failed, as a commit's does.
  if (status == ClaimStatus::io_error && error != ENOMEM) return commit_failure(ring, status, error);
  if (status == ClaimStatus::io_error) {
    // The view a claim needs is bounded (8 MiB, or the whole data area of a ring on tmpfs up to
    // 256 MiB), so the kernel refuses it only when the process's address space or the machine's
    // memory is used up.
    return "cannot map " + quoted_path(ring) + " to write a record: " + std::strerror(error) +
           " (raise the address-space limit, ulimit -v, or free memory)";
  }
  return quoted_path(ring) + ": claiming space failed (" + to_string(status) + ")";
}

std::string commit_failure(const Ring& ring, ClaimStatus status, int error) {
  if (status == ClaimStatus::io_error) {
    if (const auto truncated = truncation(error)) return *truncated;
    return "writing a record to " + quoted_path(ring) + " failed: " + std::strerror(error);
  }
  return quoted_path(ring) + ": committing a record failed (" + to_string(status) + ")";
}

}  // namespace ringfile::programs
