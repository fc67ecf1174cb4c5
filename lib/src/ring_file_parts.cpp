#include "ring_file_parts.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"

namespace ringfile::detail {

format::WriterPolicyCode policy_code(WriterPolicy policy) noexcept {
  return policy == WriterPolicy::overwrite ? format::WriterPolicyCode::overwrite : format::WriterPolicyCode::block;
}

std::optional<WriterPolicy> policy_from_code(std::uint8_t code) noexcept {
  switch (static_cast<format::WriterPolicyCode>(code)) {
    case format::WriterPolicyCode::block: return WriterPolicy::block;
    case format::WriterPolicyCode::overwrite: return WriterPolicy::overwrite;
  }
  return std::nullopt;
}

std::string describe(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::optional<FreeSpace> free_space(int fd) noexcept {
  struct statvfs filesystem {};
  if (::fstatvfs(fd, &filesystem) != 0) return std::nullopt;
  const std::uint64_t all = static_cast<std::uint64_t>(filesystem.f_bfree) * filesystem.f_frsize;
  const std::uint64_t unreserved = static_cast<std::uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
  return FreeSpace{::geteuid() == 0 ? all : unreserved, unreserved};
}

std::string describe_free_space(const std::optional<FreeSpace>& space, std::uint64_t other) {
  if (!space) return "unknown";
  const std::string usable = human_bytes_beside(space->usable, other);
  if (space->usable == space->unreserved) return usable;
  // Root is given the reserved blocks only where the filesystem grants them (its reserved uid or
  // group, or CAP_SYS_RESOURCE): root in a container may not be.
  return usable + " (" + human_bytes_beside(space->unreserved, other) + " of it not reserved)";
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  // 1023.95 and up would print as 1024.0 of this unit: one of the next.
  while (value >= (unit == 0 ? 1024 : 1023.95) && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

std::string byte_count(std::uint64_t bytes) { return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes"); }

std::string human_bytes_beside(std::uint64_t bytes, std::uint64_t other) {
  const std::string rounded = human_bytes(bytes);
  if (bytes == other || rounded != human_bytes(other)) return rounded;
  return byte_count(bytes);
}

[[noreturn]] void throw_errno(int error, const std::filesystem::path& path, const char* doing) {
  if (error == EROFS) {
    // The same code as a refusal by mode: a reader falls back to a read-only open for both.
    throw Error(ErrorCode::permission_denied,
                describe(path) + ": its file system is mounted read-only (while " + std::string(doing) +
                    "); remount it read-write (a ring there can be opened read-only, not written)");
  }
  if (error == EACCES || error == EPERM) {
    throw Error(ErrorCode::permission_denied,
                describe(path) + ": permission denied while " + doing +
                    "; check the file's owner and mode, or run as a user who may access it");
  }
  if (error == ENOENT) {
    // A link to nothing: creating "the ring first" there is refused (the path exists), so the
    // advice would go round in a circle.
    std::error_code ignored;
    if (std::filesystem::is_symlink(path, ignored)) {
      throw Error(ErrorCode::not_found, describe(path) + ": a symbolic link to '" +
                                            std::filesystem::read_symlink(path, ignored).string() +
                                            "', which does not exist; create the ring there, or remove the link");
    }
    throw Error(ErrorCode::not_found,
                describe(path) + ": no such file; create the ring first (Ring::create, ringfile-producer --create)");
  }
  if (error == ENOSPC || error == EDQUOT) {
    throw Error(ErrorCode::no_space, describe(path) + ": no space left on the device while " +
                                         doing + "; free space or choose a smaller ring");
  }
  throw Error(ErrorCode::io_error,
              describe(path) + ": " + doing + " failed: " + std::strerror(error));
}

std::uint32_t identity_crc(const format::FileIdentity& identity) {
  return crc32c({reinterpret_cast<const std::byte*>(&identity), offsetof(format::FileIdentity, identity_crc32c)});
}

FileDescriptor::~FileDescriptor() {
  if (fd >= 0) ::close(fd);
}

int FileDescriptor::release() noexcept {
  const int released = fd;
  fd = -1;
  return released;
}

void occupy_closed_standard_descriptors() noexcept {
  for (int standard = 0; standard <= 2; ++standard) {
    if (::fcntl(standard, F_GETFD) >= 0 || errno != EBADF) continue;
    const int placed = ::open("/dev/null", O_RDWR);  // the lowest free descriptor: this one
    if (placed >= 0 && placed != standard) ::close(placed);  // taken meanwhile by another thread
  }
}

}  // namespace ringfile::detail
