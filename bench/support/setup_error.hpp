// The one exception type of the benchmark programs: thrown while setting a run up (bad option,
// no space, no permission), never while records are being passed; main() prints its message on
// one line and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace ringfile::bench {

class SetupError : public std::runtime_error {
 public:
  explicit SetupError(const std::string& message) : std::runtime_error(message) {}
};

// "what: strerror(errno)" for the errno of the failed call.
std::string describe_errno(const std::string& what, int error_number);

}  // namespace ringfile::bench
