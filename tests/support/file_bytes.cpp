#include "support/file_bytes.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

#include <fstream>

#include "ringfile/crc32c.hpp"

namespace ringfile::test {

void patch_file(const std::filesystem::path& path, off_t offset, const void* bytes, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pwrite(fd, bytes, size, offset) == static_cast<ssize_t>(size));
  ::close(fd);
}

std::vector<char> read_file_bytes(const std::filesystem::path& path, off_t offset, std::size_t size) {
  std::vector<char> bytes(size);
  const int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  REQUIRE(::pread(fd, bytes.data(), size, offset) == static_cast<ssize_t>(size));
  ::close(fd);
  return bytes;
}

format::FileIdentity read_identity(const std::filesystem::path& path) {
  format::FileIdentity identity{};
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&identity), sizeof identity);
  return identity;
}

void rewrite_identity(const std::filesystem::path& path, format::FileIdentity identity) {
  identity.identity_crc32c = crc32c({reinterpret_cast<const std::byte*>(&identity),
                                     offsetof(format::FileIdentity, identity_crc32c)});
  patch_file(path, 0, &identity, sizeof identity);
}

void make_version_2(const std::filesystem::path& path) {
  format::FileIdentity identity = read_identity(path);
  identity.version_major = 2;
  identity.version_minor = 1;
  rewrite_identity(path, identity);
}

}  // namespace ringfile::test
