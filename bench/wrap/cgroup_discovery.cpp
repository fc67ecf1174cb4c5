#include "wrap/cgroup_discovery.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

namespace ringfile::bench::wrap {

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
    const std::string_view controllers =
        std::string_view(line).substr(first_colon + 1, second_colon - first_colon - 1);
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

std::optional<DiskUnderDirectory> disk_under(const fs::path& directory, std::string& why_not) {
  struct stat directory_status {};
  if (::stat(directory.c_str(), &directory_status) != 0) {
    why_not = "cannot stat " + directory.string();
    return std::nullopt;
  }
  const std::string device_id = std::to_string(major(directory_status.st_dev)) + ":" +
                                std::to_string(minor(directory_status.st_dev));
  const fs::path sysfs_device = fs::path("/sys/dev/block") / device_id;
  std::error_code error;
  const fs::path device_dir = fs::canonical(sysfs_device, error);
  if (error) {
    why_not = directory.string() + " is on device " + device_id +
              ", which is not a block device (tmpfs, overlay, btrfs subvolume?)";
    return std::nullopt;
  }
  // A partition: the throttle wants its disk, the parent directory in sysfs.
  const fs::path disk_dir =
      fs::exists(device_dir / "partition", error) ? device_dir.parent_path() : device_dir;
  auto disk_id = read_text_file(disk_dir / "dev");
  if (!disk_id) {
    why_not = "cannot read " + (disk_dir / "dev").string();
    return std::nullopt;
  }
  while (!disk_id->empty() && (disk_id->back() == '\n' || disk_id->back() == ' ')) {
    disk_id->pop_back();
  }
  return DiskUnderDirectory{*disk_id, disk_dir.filename().string()};
}

int write_text_file(const fs::path& path, std::string_view text) {
  // One write() call: cgroup files act on each write, and report failure from it.
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

}  // namespace ringfile::bench::wrap
