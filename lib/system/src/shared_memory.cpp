#include "ringfile/system/shared_memory.hpp"

#include <sys/mman.h>
#include <unistd.h>

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

void SharedMemory::fill_page_tables() const noexcept {
  if (::madvise(data_, bytes_, MADV_POPULATE_WRITE) == 0) return;
  // Before Linux 5.14: a read of each page maps it, writable (a shared mapping tracks no writes).
  const long page_bytes = ::sysconf(_SC_PAGESIZE);
  for (std::size_t offset = 0; offset < bytes_; offset += static_cast<std::size_t>(page_bytes)) {
    static_cast<void>(*static_cast<volatile const std::byte*>(data_ + offset));
  }
}

SharedMemory::~SharedMemory() { ::munmap(data_, bytes_); }

}  // namespace ringfile::system
