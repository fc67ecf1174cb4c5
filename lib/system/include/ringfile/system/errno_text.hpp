// The end of a one-line error about a failed system call.
#pragma once

#include <cstring>
#include <string>
#include <string_view>

namespace ringfile::system {

// "what: strerror(error_number)", e.g. "fork: Resource temporarily unavailable".
inline std::string describe_errno(std::string_view what, int error_number) {
  return std::string(what) + ": " + std::strerror(error_number);
}

}  // namespace ringfile::system
