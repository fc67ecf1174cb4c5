// The one error type of ringfile, thrown by set-up calls (create, open, attach) and never on the
// hot path (claim, commit, poll), which return status codes instead.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace ringfile {

enum class ErrorCode {
  not_a_ring,         // the file does not start with the ringfile magic
  version_mismatch,   // a major format version this build does not read
  truncated,          // the file is shorter than its header says
  corrupt,            // a header field, slot or record that cannot be right
  no_space,           // the filesystem cannot hold the ring
  permission_denied,  // the file or its directory is not accessible
  exists,             // create() found a file already there
  not_found,          // open() found no file; no consumer has the name given
  invalid_argument,   // an option out of range
  busy,               // a named consumer is attached by a live process
  table_full,         // all producer or consumer slots are taken
  io_error,           // any other system call failure
};

std::string_view to_string(ErrorCode code) noexcept;

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace ringfile
