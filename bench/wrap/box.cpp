#include "wrap/box.hpp"

#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "support/byte_size.hpp"
#include "wrap/cgroup_discovery.hpp"

namespace ringfile::bench::wrap {

namespace {

namespace fs = std::filesystem;

std::string box_cgroup_name() { return "ringfile-bench-wrap-" + std::to_string(::getpid()); }

std::string errno_text(int error_number) { return std::strerror(error_number); }

// Makes `parent/name` and moves this process in. Empty path (and a note) on failure.
fs::path make_and_enter(const fs::path& parent, const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& settings,
                        std::string& failure) {
  const fs::path directory = parent / name;
  std::error_code error;
  if (!fs::create_directory(directory, error)) {
    failure = "cannot create " + directory.string() + ": " + error.message();
    return {};
  }
  for (const auto& [file, value] : settings) {
    if (const int error_number = write_text_file(directory / file, value)) {
      failure = "cannot write '" + value + "' to " + (directory / file).string() + ": " +
                errno_text(error_number);
      fs::remove(directory, error);
      return {};
    }
  }
  if (const int error_number =
          write_text_file(directory / "cgroup.procs", std::to_string(::getpid()))) {
    failure = "cannot move into " + directory.string() + ": " + errno_text(error_number);
    fs::remove(directory, error);
    return {};
  }
  return directory;
}

void leave_and_remove(const fs::path& directory, const fs::path& origin) {
  if (directory.empty()) return;
  write_text_file(origin / "cgroup.procs", std::to_string(::getpid()));
  std::error_code error;
  fs::remove(directory, error);  // rmdir; page cache still charged to it is handed to the parent
}

// "KEY VALUE" lines (memory.oom_control, memory.events).
std::optional<std::uint64_t> keyed_value(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string name;
  std::uint64_t value = 0;
  while (lines >> name >> value) {
    if (name == key) return value;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> number_in_file(const fs::path& path) {
  const auto text = read_text_file(path);
  if (!text) return std::nullopt;
  std::uint64_t value = 0;
  if (std::sscanf(text->c_str(), "%" SCNu64, &value) != 1) return std::nullopt;
  return value;
}

}  // namespace

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
  cgroup_v2_ = !own_v1_cgroup_dir("memory").has_value() && own_v2_cgroup_dir().has_value();
  enter_memory_cgroup(request);
  enter_disk_cgroup(request);
}

void Box::enter_memory_cgroup(const BoxRequest& request) {
  std::string failure;
  const auto parent = cgroup_v2_ ? own_v2_cgroup_dir() : own_v1_cgroup_dir("memory");
  if (!parent) {
    notes_.push_back("UNBOXED memory: no memory cgroup hierarchy found (v1 or v2)");
    return;
  }
  if (cgroup_v2_) {
    // A v2 child gets the controllers its parent enables for its subtree; that fails if the
    // parent itself holds processes (the "no internal processes" rule), e.g. a login shell.
    if (const int error_number =
            write_text_file(*parent / "cgroup.subtree_control", "+memory +io")) {
      notes_.push_back("UNBOXED memory: cannot enable memory and io controllers under " +
                       parent->string() + ": " + errno_text(error_number) +
                       " (run from a cgroup with no other processes, e.g. systemd-run --scope)");
      return;
    }
  }
  const std::string limit = std::to_string(request.memory_limit_bytes);
  memory_dir_ =
      make_and_enter(*parent, box_cgroup_name(),
                     {{cgroup_v2_ ? "memory.max" : "memory.limit_in_bytes", limit}}, failure);
  if (memory_dir_.empty()) {
    notes_.push_back("UNBOXED memory: " + failure);
    return;
  }
  memory_origin_dir_ = *parent;
  notes_.push_back(std::string("memory: cgroup ") + (cgroup_v2_ ? "v2 " : "v1 ") +
                   memory_dir_.string() + ", limit " + format_byte_size(memory_limit_bytes_) +
                   " (page cache included)");
}

void Box::enter_disk_cgroup(const BoxRequest& request) {
  if (request.read_bytes_per_second == 0 && request.read_iops == 0) {
    notes_.push_back("reads: not throttled (--read-bps 0 --read-iops 0)");
    return;
  }
  std::string why_not;
  const auto disk = disk_under(request.ring_directory, why_not);
  if (!disk) {
    notes_.push_back("UNTHROTTLED reads: " + why_not);
    return;
  }
  disk_id_ = disk->id;
  const std::string rate = std::to_string(request.read_bytes_per_second);
  const std::string iops = std::to_string(request.read_iops);
  const std::string where = " on " + disk->name + " (" + disk->id + ")";
  if (cgroup_v2_) {
    if (memory_dir_.empty()) {
      notes_.push_back("UNTHROTTLED reads: no v2 box cgroup to put io.max in");
      return;
    }
    std::string limits = disk->id;
    if (request.read_bytes_per_second != 0) limits += " rbps=" + rate;
    if (request.read_iops != 0) limits += " riops=" + iops;
    if (const int error_number = write_text_file(memory_dir_ / "io.max", limits)) {
      notes_.push_back("UNTHROTTLED reads: cannot write io.max" + where + ": " +
                       errno_text(error_number));
      return;
    }
    disk_dir_ = memory_dir_;
  } else {
    const auto parent = own_v1_cgroup_dir("blkio");
    if (!parent) {
      notes_.push_back("UNTHROTTLED reads: no blkio cgroup hierarchy found");
      return;
    }
    std::vector<std::pair<std::string, std::string>> settings;
    if (request.read_bytes_per_second != 0) {
      settings.emplace_back("blkio.throttle.read_bps_device", disk->id + " " + rate);
    }
    if (request.read_iops != 0) {
      settings.emplace_back("blkio.throttle.read_iops_device", disk->id + " " + iops);
    }
    std::string failure;
    disk_dir_ = make_and_enter(*parent, box_cgroup_name(), settings, failure);
    if (disk_dir_.empty()) {
      notes_.push_back("UNTHROTTLED reads" + where + ": " + failure);
      return;
    }
    disk_origin_dir_ = *parent;
  }
  reads_throttled_ = true;
  std::string limits;
  if (request.read_bytes_per_second != 0) limits = rate + " B/s";
  if (request.read_iops != 0) limits += (limits.empty() ? "" : " and ") + iops + " requests/s";
  notes_.push_back("reads: throttled to " + limits + where + " via " +
                   (cgroup_v2_ ? "io.max in " : "blkio in ") + disk_dir_.string());
}

Box::~Box() {
  if (!cgroup_v2_) leave_and_remove(disk_dir_, disk_origin_dir_);
  leave_and_remove(memory_dir_, memory_origin_dir_);
}

std::optional<std::uint64_t> Box::peak_memory_bytes() const {
  if (memory_dir_.empty()) return std::nullopt;
  return number_in_file(memory_dir_ / (cgroup_v2_ ? "memory.peak" : "memory.max_usage_in_bytes"));
}

void Box::reset_peak_memory() const {
  if (memory_dir_.empty() || cgroup_v2_) return;
  write_text_file(memory_dir_ / "memory.max_usage_in_bytes", "0");
}

std::optional<std::uint64_t> Box::oom_kills() const {
  if (memory_dir_.empty()) return std::nullopt;
  const auto text =
      read_text_file(memory_dir_ / (cgroup_v2_ ? "memory.events" : "memory.oom_control"));
  if (!text) return std::nullopt;
  return keyed_value(*text, "oom_kill");
}

namespace {

// blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Read N", "MAJ:MIN Write N", ...,
// "Total N". The Read and Write values of `disk_id`.
std::optional<std::pair<std::uint64_t, std::uint64_t>> v1_read_and_write(
    const fs::path& path, const std::string& disk_id) {
  const auto text = read_text_file(path);
  if (!text) return std::nullopt;
  std::istringstream lines(*text);
  std::string device, operation;
  std::uint64_t value = 0;
  std::pair<std::uint64_t, std::uint64_t> read_and_write{0, 0};
  while (lines >> device) {
    if (device == "Total") {
      lines >> value;
      continue;
    }
    lines >> operation >> value;
    if (device != disk_id) continue;
    if (operation == "Read") read_and_write.first = value;
    if (operation == "Write") read_and_write.second = value;
  }
  return read_and_write;
}

}  // namespace

std::optional<BoxDiskBytes> Box::disk_bytes() const {
  if (disk_dir_.empty()) return std::nullopt;
  BoxDiskBytes bytes;
  if (cgroup_v2_) {
    // io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..."
    const auto text = read_text_file(disk_dir_ / "io.stat");
    if (!text) return std::nullopt;
    std::istringstream lines(*text);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.rfind(disk_id_ + " ", 0) != 0) continue;
      if (const std::size_t at = line.find("rbytes="); at != std::string::npos) {
        std::sscanf(line.c_str() + at, "rbytes=%" SCNu64, &bytes.read_bytes);
      }
      if (const std::size_t at = line.find("wbytes="); at != std::string::npos) {
        std::sscanf(line.c_str() + at, "wbytes=%" SCNu64, &bytes.write_bytes);
      }
      if (const std::size_t at = line.find("rios="); at != std::string::npos) {
        std::sscanf(line.c_str() + at, "rios=%" SCNu64, &bytes.read_requests);
      }
    }
    return bytes;
  }
  const auto service_bytes =
      v1_read_and_write(disk_dir_ / "blkio.throttle.io_service_bytes", disk_id_);
  const auto serviced = v1_read_and_write(disk_dir_ / "blkio.throttle.io_serviced", disk_id_);
  if (!service_bytes) return std::nullopt;
  bytes.read_bytes = service_bytes->first;
  bytes.write_bytes = service_bytes->second;
  if (serviced) bytes.read_requests = serviced->first;
  return bytes;
}

}  // namespace ringfile::bench::wrap
