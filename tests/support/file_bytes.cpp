#include "support/file_bytes.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <unistd.h>

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

}  // namespace ringfile::test
