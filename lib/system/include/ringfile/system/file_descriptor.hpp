// Owns one file descriptor and closes it (unless it was lent, as stdin and stdout are).
#pragma once

#include <unistd.h>

#include <utility>

namespace ringfile::system {

class FileDescriptor {
 public:
  FileDescriptor() noexcept = default;
  // `owned` false: the descriptor is only borrowed (stdin, stdout) and is left open.
  explicit FileDescriptor(int fd, bool owned = true) noexcept : fd_(fd), owned_(owned) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), owned_(std::exchange(other.owned_, false)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
      owned_ = std::exchange(other.owned_, false);
    }
    return *this;
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }
  void reset() noexcept {
    if (owned_ && fd_ >= 0) ::close(fd_);
    fd_ = -1;
    owned_ = false;
  }

 private:
  int fd_ = -1;
  bool owned_ = false;
};

}  // namespace ringfile::system
