#include "support/setup_error.hpp"

#include <cstring>

namespace ringfile::bench {

std::string describe_errno(const std::string& what, int error_number) {
  return what + ": " + std::strerror(error_number);
}

}  // namespace ringfile::bench
