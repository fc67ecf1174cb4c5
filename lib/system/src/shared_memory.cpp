#include "ringfile/system/shared_memory.hpp"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>

#include "ringfile/error.hpp"

namespace ringfile::system {

SharedMemory::SharedMemory(std::size_t bytes, const std::string& purpose) : bytes_(bytes) {
  void* const mapped =
      ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (mapped == MAP_FAILED) {
    throw Error(ErrorCode::io_error, "cannot map " + std::to_string(bytes) + " bytes of shared memory for " +
                                         purpose + ": " + std::strerror(errno) + "; free memory or ask for less");
  }
  data_ = static_cast<std::byte*>(mapped);
}

SharedMemory::~SharedMemory() { ::munmap(data_, bytes_); }

}  // namespace ringfile::system
