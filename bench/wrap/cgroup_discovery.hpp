// Finding this process's own cgroups and the disk under a directory: what the box needs before
// it can create anything.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ringfile::bench::wrap {

// The directory of this process's cgroup in the cgroup v1 hierarchy that carries `controller`
// ("memory", "blkio"), as mounted here. nullopt: no such v1 hierarchy.
std::optional<std::filesystem::path> own_v1_cgroup_dir(std::string_view controller);

// The directory of this process's cgroup in the unified (v2) hierarchy. nullopt: not mounted.
std::optional<std::filesystem::path> own_v2_cgroup_dir();

struct DiskUnderDirectory {
  std::string id;    // "MAJ:MIN" of the whole disk: the read throttle takes disks, not partitions
  std::string name;  // "vda"
};

// nullopt with `why_not` filled when the directory is not on a block device (tmpfs, overlay) or
// sysfs does not say which disk it is.
std::optional<DiskUnderDirectory> disk_under(const std::filesystem::path& directory,
                                             std::string& why_not);

// Small cgroup-file helpers. write_text_file returns 0 or the errno of the failure.
int write_text_file(const std::filesystem::path& path, std::string_view text);
std::optional<std::string> read_text_file(const std::filesystem::path& path);

}  // namespace ringfile::bench::wrap
