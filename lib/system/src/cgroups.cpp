#include "ringfile/system/cgroups.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

namespace ringfile::system {

namespace {

namespace fs = std::filesystem;

bool comma_list_contains(std::string_view list, std::string_view wanted) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (list.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct CgroupMount {
  std::string root;  // the hierarchy path that is mounted (not "/" inside containers)
  fs::path mount_point;
};

// /proc/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [TAGS...] - TYPE SOURCE SUPER"
std::optional<CgroupMount> find_cgroup_mount(std::string_view type, std::string_view controller) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  std::string line;
  while (std::getline(mountinfo, line)) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point, options, field;
    fields >> id >> parent >> device >> root >> mount_point >> options;
    while (fields >> field && field != "-") {
    }
    std::string fs_type, source, super_options;
    fields >> fs_type >> source >> super_options;
    if (fs_type != type) continue;
    if (!controller.empty() && !comma_list_contains(super_options, controller)) continue;
    return CgroupMount{root, mount_point};
  }
  return std::nullopt;
}

// /proc/self/cgroup: "ID:CONTROLLERS:PATH"; v2 is "0::PATH".
std::optional<std::string> own_cgroup_path(std::string_view controller, bool unified) {
  std::ifstream cgroups("/proc/self/cgroup");
  std::string line;
  while (std::getline(cgroups, line)) {
    const std::size_t first_colon = line.find(':');
    const std::size_t second_colon = line.find(':', first_colon + 1);
    if (first_colon == std::string::npos || second_colon == std::string::npos) continue;
    const std::string_view controllers = std::string_view(line).substr(first_colon + 1, second_colon - first_colon - 1);
    const bool matches = unified ? controllers.empty() && line.compare(0, 2, "0:") == 0
                                 : comma_list_contains(controllers, controller);
    if (matches) return line.substr(second_colon + 1);
  }
  return std::nullopt;
}

std::optional<fs::path> join_mount_and_path(const CgroupMount& mount, std::string path) {
  // Inside a container the mount's root is a prefix of the path /proc/self/cgroup shows.
  if (mount.root != "/" && path.rfind(mount.root, 0) == 0) path.erase(0, mount.root.size());
  const fs::path directory = mount.mount_point / fs::path(path).relative_path();
  std::error_code error;
  if (!fs::is_directory(directory, error)) return std::nullopt;
  return directory;
}

std::string errno_text(int error_number) { return std::strerror(error_number); }

// Makes `parent/name` and writes `settings` (file, value) into it. Empty path, with `why_not`
// filled, on failure (nothing is left behind).
fs::path make_cgroup(const fs::path& parent, const std::string& name,
                     const std::vector<std::pair<std::string, std::string>>& settings, std::string* why_not) {
  const fs::path directory = parent / name;
  std::error_code error;
  if (!fs::create_directory(directory, error)) {
    *why_not = "cannot create " + directory.string() + ": " + error.message();
    return {};
  }
  for (const auto& [file, value] : settings) {
    if (const int error_number = write_control_file(directory / file, value)) {
      *why_not = "cannot write '" + value + "' to " + (directory / file).string() + ": " + errno_text(error_number);
      fs::remove(directory, error);
      return {};
    }
  }
  return directory;
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

// blkio.throttle.io_service_bytes / io_serviced: "MAJ:MIN Read N", "MAJ:MIN Write N", ...,
// "Total N". The Read and Write values of `disk_id`, or of every disk when empty.
std::optional<std::pair<std::uint64_t, std::uint64_t>> v1_read_and_write(const fs::path& path,
                                                                         std::string_view disk_id) {
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
    if (!(lines >> operation >> value)) break;
    if (!disk_id.empty() && device != disk_id) continue;
    if (operation == "Read") read_and_write.first += value;
    if (operation == "Write") read_and_write.second += value;
  }
  return read_and_write;
}

// io.stat: "MAJ:MIN rbytes=N wbytes=N rios=N ..." per disk.
std::optional<CgroupDiskBytes> v2_disk_bytes(const fs::path& path, std::string_view disk_id) {
  const auto text = read_text_file(path);
  if (!text) return std::nullopt;
  CgroupDiskBytes bytes;
  std::istringstream lines(*text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string device, word;
    words >> device;
    if (!disk_id.empty() && device != disk_id) continue;
    while (words >> word) {
      std::uint64_t value = 0;
      if (std::sscanf(word.c_str(), "rbytes=%" SCNu64, &value) == 1) bytes.read_bytes += value;
      if (std::sscanf(word.c_str(), "wbytes=%" SCNu64, &value) == 1) bytes.write_bytes += value;
      if (std::sscanf(word.c_str(), "rios=%" SCNu64, &value) == 1) bytes.read_requests += value;
    }
  }
  return bytes;
}

}  // namespace

std::optional<fs::path> own_v1_cgroup_dir(std::string_view controller) {
  const auto mount = find_cgroup_mount("cgroup", controller);
  const auto path = own_cgroup_path(controller, false);
  if (!mount || !path) return std::nullopt;
  return join_mount_and_path(*mount, *path);
}

std::optional<fs::path> own_v2_cgroup_dir() {
  const auto mount = find_cgroup_mount("cgroup2", "");
  const auto path = own_cgroup_path("", true);
  if (!mount || !path) return std::nullopt;
  return join_mount_and_path(*mount, *path);
}

int write_control_file(const fs::path& path, std::string_view text) noexcept {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t written = ::write(fd, text.data(), text.size());
  const int write_error = written < 0 ? errno : 0;
  ::close(fd);
  if (write_error != 0) return write_error;
  return static_cast<std::size_t>(written) == text.size() ? 0 : EIO;
}

std::optional<std::string> read_text_file(const fs::path& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

std::optional<MemoryCgroup> MemoryCgroup::create(const std::string& name, std::uint64_t limit_bytes,
                                                 std::string* why_not) {
  if (::geteuid() != 0) {
    *why_not = "not root, so no memory cgroup";
    return std::nullopt;
  }
  const std::string limit = std::to_string(limit_bytes);
  if (const auto parent = own_v1_cgroup_dir("memory")) {
    const fs::path directory = make_cgroup(*parent, name, {{"memory.limit_in_bytes", limit}}, why_not);
    if (directory.empty()) return std::nullopt;
    return MemoryCgroup(directory, *parent, false, limit_bytes);
  }
  const auto parent = own_v2_cgroup_dir();
  if (!parent) {
    *why_not = "no memory cgroup hierarchy found (v1 or v2)";
    return std::nullopt;
  }
  // A v2 child gets the controllers its parent enables for its subtree; enabling them fails if
  // the parent itself holds processes (the "no internal processes" rule), e.g. a login shell,
  // unless they are enabled there already.
  const int enable_error = write_control_file(*parent / "cgroup.subtree_control", "+memory +io");
  const fs::path directory = make_cgroup(*parent, name, {{"memory.max", limit}}, why_not);
  if (directory.empty()) {
    if (enable_error != 0) {
      *why_not += "; cannot enable the memory and io controllers under " + parent->string() + ": " +
                  errno_text(enable_error) + " (run from a cgroup with no other processes, e.g. systemd-run --scope)";
    }
    return std::nullopt;
  }
  return MemoryCgroup(directory, *parent, true, limit_bytes);
}

MemoryCgroup::MemoryCgroup(MemoryCgroup&& other) noexcept
    : directory_(std::move(other.directory_)),
      origin_(std::move(other.origin_)),
      reads_directory_(std::move(other.reads_directory_)),
      reads_origin_(std::move(other.reads_origin_)),
      version_two_(other.version_two_),
      holds_this_process_(std::exchange(other.holds_this_process_, false)),
      limit_bytes_(other.limit_bytes_) {
  other.directory_.clear();
  other.reads_directory_.clear();
}

MemoryCgroup::~MemoryCgroup() {
  const std::string self = std::to_string(::getpid());
  const bool separate_reads = !reads_directory_.empty() && reads_directory_ != directory_;
  if (holds_this_process_) {
    if (separate_reads) write_control_file(reads_origin_ / "cgroup.procs", self);
    if (!directory_.empty()) write_control_file(origin_ / "cgroup.procs", self);
  }
  // rmdir of an empty cgroup; page cache still charged to it is handed to the parent.
  if (separate_reads) ::rmdir(reads_directory_.c_str());
  if (!directory_.empty()) ::rmdir(directory_.c_str());
}

bool MemoryCgroup::count_reads(std::string* why_not, const ReadThrottle& throttle) {
  const std::string bandwidth = std::to_string(throttle.bytes_per_second);
  const std::string requests = std::to_string(throttle.requests_per_second);
  const bool throttled = !throttle.disk_id.empty() && (throttle.bytes_per_second != 0 || throttle.requests_per_second != 0);
  if (version_two_) {
    if (!fs::exists(directory_ / "io.stat")) {
      *why_not = "no io controller in " + directory_.string();
      return false;
    }
    if (throttled) {
      std::string limits = throttle.disk_id;
      if (throttle.bytes_per_second != 0) limits += " rbps=" + bandwidth;
      if (throttle.requests_per_second != 0) limits += " riops=" + requests;
      if (const int error_number = write_control_file(directory_ / "io.max", limits)) {
        *why_not = "cannot write '" + limits + "' to " + (directory_ / "io.max").string() + ": " + errno_text(error_number);
        return false;
      }
    }
    reads_directory_ = directory_;
    return true;
  }
  const auto parent = own_v1_cgroup_dir("blkio");
  if (!parent) {
    *why_not = "no blkio cgroup hierarchy found";
    return false;
  }
  std::vector<std::pair<std::string, std::string>> settings;
  if (throttled && throttle.bytes_per_second != 0) {
    settings.emplace_back("blkio.throttle.read_bps_device", throttle.disk_id + " " + bandwidth);
  }
  if (throttled && throttle.requests_per_second != 0) {
    settings.emplace_back("blkio.throttle.read_iops_device", throttle.disk_id + " " + requests);
  }
  const fs::path directory = make_cgroup(*parent, directory_.filename().string(), settings, why_not);
  if (directory.empty()) return false;
  reads_directory_ = directory;
  reads_origin_ = *parent;
  return true;
}

int MemoryCgroup::add(pid_t pid) const {
  const std::string process = std::to_string(pid);
  if (!reads_directory_.empty() && reads_directory_ != directory_) {
    if (const int error_number = write_control_file(reads_directory_ / "cgroup.procs", process)) return error_number;
  }
  if (const int error_number = write_control_file(directory_ / "cgroup.procs", process)) return error_number;
  if (pid == ::getpid()) holds_this_process_ = true;
  return 0;
}

std::optional<std::uint64_t> MemoryCgroup::peak_bytes() const {
  return number_in_file(directory_ / (version_two_ ? "memory.peak" : "memory.max_usage_in_bytes"));
}

void MemoryCgroup::reset_peak() const {
  if (!version_two_) write_control_file(directory_ / "memory.max_usage_in_bytes", "0");
}

std::optional<std::uint64_t> MemoryCgroup::oom_kills() const {
  const auto text = read_text_file(directory_ / (version_two_ ? "memory.events" : "memory.oom_control"));
  if (!text) return std::nullopt;
  return keyed_value(*text, "oom_kill");
}

std::optional<CgroupDiskBytes> MemoryCgroup::disk_bytes(std::string_view disk_id) const {
  if (reads_directory_.empty()) return std::nullopt;
  if (version_two_) return v2_disk_bytes(reads_directory_ / "io.stat", disk_id);
  const auto service_bytes = v1_read_and_write(reads_directory_ / "blkio.throttle.io_service_bytes", disk_id);
  if (!service_bytes) return std::nullopt;
  CgroupDiskBytes bytes;
  bytes.read_bytes = service_bytes->first;
  bytes.write_bytes = service_bytes->second;
  if (const auto serviced = v1_read_and_write(reads_directory_ / "blkio.throttle.io_serviced", disk_id)) {
    bytes.read_requests = serviced->first;
  }
  return bytes;
}

std::optional<DiskUnderDirectory> disk_under(const fs::path& directory, std::string& why_not) {
  struct stat directory_status {};
  if (::stat(directory.c_str(), &directory_status) != 0) {
    why_not = "cannot stat " + directory.string();
    return std::nullopt;
  }
  const std::string device_id =
      std::to_string(major(directory_status.st_dev)) + ":" + std::to_string(minor(directory_status.st_dev));
  const fs::path sysfs_device = fs::path("/sys/dev/block") / device_id;
  std::error_code error;
  const fs::path device_dir = fs::canonical(sysfs_device, error);
  if (error) {
    why_not = directory.string() + " is on device " + device_id +
              ", which is not a block device (tmpfs, overlay, btrfs subvolume?)";
    return std::nullopt;
  }
  // A partition: the throttle wants its disk, the parent directory in sysfs.
  const fs::path disk_dir = fs::exists(device_dir / "partition", error) ? device_dir.parent_path() : device_dir;
  auto disk_id = read_text_file(disk_dir / "dev");
  if (!disk_id) {
    why_not = "cannot read " + (disk_dir / "dev").string();
    return std::nullopt;
  }
  while (!disk_id->empty() && (disk_id->back() == '\n' || disk_id->back() == ' ')) disk_id->pop_back();
  return DiskUnderDirectory{*disk_id, disk_dir.filename().string()};
}

}  // namespace ringfile::system
