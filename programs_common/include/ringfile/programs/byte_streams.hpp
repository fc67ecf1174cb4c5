// Buffered byte streams over file descriptors, for record input (producer) and output (consumer).
// Plain read(2)/write(2) rather than stdio: reads must return on a stop signal (EINTR), and
// binary data must pass untouched.
#pragma once

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "ringfile/ring.hpp"
#include "ringfile/system/file_descriptor.hpp"

namespace ringfile::programs {

using FileDescriptor = system::FileDescriptor;

// "-" is stdin / stdout. Throw RuntimeFailure naming the file and the fix, also when the file
// (stdin or stdout included) is `ring`, the ring being read or written: records written into it
// would destroy it (an output is truncated only once it is known not to be the ring).
FileDescriptor open_input(const std::string& path, const Ring* ring = nullptr);
FileDescriptor open_output(const std::string& path, bool append, const Ring* ring = nullptr);

class InputStream {
 public:
  enum class Status {
    ok,       // at least one more byte is available
    end,      // end of input
    waiting,  // nothing yet (timeout or signal): look at the stop conditions, then call again
    error,
  };

  explicit InputStream(int fd, std::size_t buffer_bytes = std::size_t{1} << 20);
  // Bytes read and not yet consumed; valid until the next fill().
  std::span<const std::byte> available() const noexcept {
    return {buffer_.data() + begin_, end_ - begin_};
  }
  void consume(std::size_t bytes) noexcept { begin_ += bytes; }
  // Reads more, waiting at most `timeout` for input (moving what is unconsumed to the front
  // first, and growing the buffer when it is full).
  Status fill(std::chrono::milliseconds timeout);
  // errno of the failed read, after Status::error.
  int error_number() const noexcept { return error_number_; }

 private:
  int fd_;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
  int error_number_ = 0;
};

class OutputStream {
 public:
  explicit OutputStream(int fd, std::size_t buffer_bytes = std::size_t{1} << 20);
  // Buffers `bytes`, writing the buffer out when it is full. After a failure it does nothing.
  void write(std::span<const std::byte> bytes) noexcept;
  // Writes out everything buffered. False after any failure (see error_number()).
  bool flush() noexcept;
  bool failed() const noexcept { return error_number_ != 0; }
  // Bytes written out so far, a failed write's part included.
  std::uint64_t written_bytes() const noexcept { return written_bytes_; }
  int error_number() const noexcept { return error_number_; }
  // Marks the stream failed (with errno `error_number`) by something outside it, e.g. formatting.
  void fail(int error_number) noexcept {
    if (error_number_ == 0) error_number_ = error_number;
  }

 private:
  void write_all(const std::byte* data, std::size_t size) noexcept;

  int fd_;
  std::vector<std::byte> buffer_;
  std::size_t used_ = 0;
  std::uint64_t written_bytes_ = 0;
  int error_number_ = 0;
};

}  // namespace ringfile::programs
