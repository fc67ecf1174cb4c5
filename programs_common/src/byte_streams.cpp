#include "ringfile/programs/byte_streams.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "ringfile/programs/program.hpp"

namespace ringfile::programs {

namespace {

// Throws when `fd` is the ring's file. `name` is how the caller's messages name the file.
void refuse_the_ring(int fd, const std::string& name, const char* role, const Ring* ring) {
  if (ring != nullptr && ring->is_open_as(fd)) {
    throw RuntimeFailure("the " + std::string(role) + " " + name + " is the ring itself; choose another file");
  }
}

}  // namespace

FileDescriptor open_input(const std::string& path, const Ring* ring) {
  if (path == "-") {
    refuse_the_ring(STDIN_FILENO, "stdin", "input", ring);
    return FileDescriptor(STDIN_FILENO, false);
  }
  FileDescriptor input(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (input.get() < 0) {
    throw RuntimeFailure("cannot read input '" + path + "': " + std::strerror(errno) +
                         "; check the path and its permissions");
  }
  refuse_the_ring(input.get(), "'" + path + "'", "input", ring);
  return input;
}

FileDescriptor open_output(const std::string& path, bool append, const Ring* ring) {
  if (path == "-") {
    refuse_the_ring(STDOUT_FILENO, "stdout", "output", ring);
    return FileDescriptor(STDOUT_FILENO, false);
  }
  // Not O_TRUNC: the file is looked at before anything in it is lost.
  FileDescriptor output(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : 0), 0644));
  if (output.get() < 0) {
    throw RuntimeFailure("cannot write output '" + path + "': " + std::strerror(errno) +
                         "; check the directory exists and is writable");
  }
  refuse_the_ring(output.get(), "'" + path + "'", "output", ring);
  struct stat status {};
  // Only a regular file is emptied: a FIFO, a terminal or /dev/null has nothing to cut (and
  // refuses ftruncate), as O_TRUNC ignored them.
  if (!append && ::fstat(output.get(), &status) == 0 && S_ISREG(status.st_mode) && status.st_size != 0 &&
      ::ftruncate(output.get(), 0) != 0) {
    throw RuntimeFailure("cannot empty output '" + path + "': " + std::strerror(errno) +
                         "; check the file is writable, or use --append");
  }
  return output;
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
    written_bytes_ += static_cast<std::uint64_t>(written);
  }
}

}  // namespace ringfile::programs
