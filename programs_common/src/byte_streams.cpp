#include "ringfile/programs/byte_streams.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "ringfile/programs/command_line.hpp"

namespace ringfile::programs {

FileDescriptor open_input(const std::string& path) {
  if (path == "-") return FileDescriptor(STDIN_FILENO, false);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw RuntimeFailure("cannot read input '" + path + "': " + std::strerror(errno) +
                         "; check the path and its permissions");
  }
  return FileDescriptor(fd);
}

FileDescriptor open_output(const std::string& path, bool append) {
  if (path == "-") return FileDescriptor(STDOUT_FILENO, false);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
  if (fd < 0) {
    throw RuntimeFailure("cannot write output '" + path + "': " + std::strerror(errno) +
                         "; check the directory exists and is writable");
  }
  return FileDescriptor(fd);
}

InputStream::InputStream(int fd, std::size_t buffer_bytes) : fd_(fd), buffer_(buffer_bytes) {}

InputStream::Status InputStream::fill(std::chrono::milliseconds timeout) {
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
  // poll first, so that a silent pipe or terminal does not keep the caller from its stop
  // conditions (--duration, signals). A regular file is always ready.
  pollfd readable{fd_, POLLIN, 0};
  const int ready = ::poll(&readable, 1, static_cast<int>(timeout.count()));
  if (ready == 0 || (ready < 0 && errno == EINTR)) return Status::waiting;
  const ssize_t got = ::read(fd_, buffer_.data() + end_, buffer_.size() - end_);
  if (got > 0) {
    end_ += static_cast<std::size_t>(got);
    return Status::ok;
  }
  if (got == 0) return Status::end;
  if (errno == EINTR || errno == EAGAIN) return Status::waiting;
  error_number_ = errno;
  return Status::error;
}

OutputStream::OutputStream(int fd, std::size_t buffer_bytes) : fd_(fd), buffer_(buffer_bytes) {}

void OutputStream::write(std::span<const std::byte> bytes) noexcept {
  if (failed()) return;
  if (used_ + bytes.size() > buffer_.size()) {
    if (!flush()) return;
    if (bytes.size() >= buffer_.size()) {  // a large record goes out directly, not in pieces
      write_all(bytes.data(), bytes.size());
      return;
    }
  }
  if (!bytes.empty()) std::memcpy(buffer_.data() + used_, bytes.data(), bytes.size());
  used_ += bytes.size();
}

bool OutputStream::flush() noexcept {
  if (failed()) return false;
  write_all(buffer_.data(), used_);
  used_ = 0;
  return !failed();
}

void OutputStream::write_all(const std::byte* data, std::size_t size) noexcept {
  while (size > 0) {
    const ssize_t written = ::write(fd_, data, size);
    if (written < 0) {
      // A stop signal must not cut a record in half: finish writing it.
      if (errno == EINTR) continue;
      error_number_ = errno;
      return;
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

}  // namespace ringfile::programs
