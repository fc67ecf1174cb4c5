#include "support/shared_mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "support/file_descriptor.hpp"
#include "support/setup_error.hpp"

namespace ringfile::bench {

SharedMapping::SharedMapping(std::size_t bytes) : bytes_(bytes) {
  const std::string name = "/ringfile-bench-shm-" + std::to_string(::getpid());
  const FileDescriptor fd(::shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600));
  if (!fd.valid()) throw SetupError(describe_errno("shm_open " + name, errno));
  // Unlinked at once: the mapping below and the fork keep it alive, and nothing is left behind.
  ::shm_unlink(name.c_str());
  // posix_fallocate, not ftruncate: a full /dev/shm fails here, not with SIGBUS mid-pass.
  const int allocated = ::posix_fallocate(fd.get(), 0, static_cast<off_t>(bytes));
  if (allocated != 0) throw SetupError(describe_errno("allocating shared memory", allocated));
  void* const mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (mapped == MAP_FAILED) throw SetupError(describe_errno("mmap of shared memory", errno));
  data_ = static_cast<std::byte*>(mapped);
}

SharedMapping::~SharedMapping() { ::munmap(data_, bytes_); }

}  // namespace ringfile::bench
