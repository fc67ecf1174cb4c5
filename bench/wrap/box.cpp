#include "wrap/box.hpp"

#include <unistd.h>

#include <cstring>

#include "support/byte_size.hpp"

namespace ringfile::bench::wrap {

namespace fs = std::filesystem;

Box::Box(const BoxRequest& request) : memory_limit_bytes_(request.memory_limit_bytes) {
  if (!request.enabled) {
    notes_.push_back("UNBOXED: --no-box; no memory limit and no read throttle");
    return;
  }
  if (::geteuid() != 0) {
    notes_.push_back(
        "UNBOXED: not root, so no memory cgroup and no read throttle; figures "
        "describe this machine's free memory and unthrottled disk");
    return;
  }
  std::string why_not;
  auto made = system::MemoryCgroup::create("ringfile-bench-wrap-" + std::to_string(::getpid()),
                                           request.memory_limit_bytes, &why_not);
  if (!made) {
    notes_.push_back("UNBOXED memory: " + why_not);
    notes_.push_back("UNTHROTTLED reads: no box cgroup to throttle them in");
    return;
  }
  memory_.emplace(std::move(*made));
  // Throttled before this process moves in: every child it forks is counted and throttled.
  throttle_reads(request);
  if (const int error_number = memory_->add(::getpid())) {
    notes_.push_back("UNBOXED: cannot move into " + memory_->directory().string() + ": " + std::strerror(error_number));
    memory_.reset();
    reads_throttled_ = false;
    return;
  }
  // The memory line first, as the reports have always listed it.
  notes_.insert(notes_.begin(), std::string("memory: cgroup ") + (memory_->version_two() ? "v2 " : "v1 ") +
                                    memory_->directory().string() + ", limit " +
                                    format_byte_size(memory_limit_bytes_) + " (page cache included)");
}

void Box::throttle_reads(const BoxRequest& request) {
  if (request.read_bytes_per_second == 0 && request.read_iops == 0) {
    notes_.push_back("reads: not throttled (--read-bps 0 --read-iops 0)");
    return;
  }
  std::string why_not;
  const auto disk = system::disk_under(request.ring_directory, why_not);
  if (!disk) {
    notes_.push_back("UNTHROTTLED reads: " + why_not);
    return;
  }
  const std::string where = " on " + disk->name + " (" + disk->id + ")";
  if (!memory_->count_reads(&why_not, {disk->id, request.read_bytes_per_second, request.read_iops})) {
    notes_.push_back("UNTHROTTLED reads" + where + ": " + why_not);
    return;
  }
  disk_id_ = disk->id;
  reads_throttled_ = true;
  std::string limits;
  if (request.read_bytes_per_second != 0) limits = std::to_string(request.read_bytes_per_second) + " B/s";
  if (request.read_iops != 0) {
    limits += (limits.empty() ? "" : " and ") + std::to_string(request.read_iops) + " requests/s";
  }
  notes_.push_back("reads: throttled to " + limits + where + " via " +
                   (memory_->version_two() ? "io.max in " : "blkio in ") + memory_->reads_directory().string());
}

std::optional<std::uint64_t> Box::peak_memory_bytes() const {
  if (!memory_) return std::nullopt;
  return memory_->peak_bytes();
}

void Box::reset_peak_memory() const {
  if (memory_) memory_->reset_peak();
}

std::optional<std::uint64_t> Box::oom_kills() const {
  if (!memory_) return std::nullopt;
  return memory_->oom_kills();
}

std::optional<BoxDiskBytes> Box::disk_bytes() const {
  if (!memory_ || disk_id_.empty()) return std::nullopt;
  return memory_->disk_bytes(disk_id_);
}

}  // namespace ringfile::bench::wrap
