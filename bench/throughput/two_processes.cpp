#include "throughput/two_processes.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <exception>
#include <string>

#include "support/cpu_pinning.hpp"
#include "support/file_descriptor.hpp"
#include "support/setup_error.hpp"

namespace ringfile::bench::throughput {

namespace {

// Exit statuses of the producer process.
constexpr int kProducerFailed = 1;
constexpr int kProducerNotPinned = 2;

}  // namespace

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

PassResult run_in_two_processes(const PassConfig& config, const std::function<bool()>& producer,
                                const std::function<PassResult()>& consumer) {
  const pid_t child = ::fork();
  if (child < 0) {
    PassResult failed;
    failed.error = describe_errno("fork", errno);
    return failed;
  }
  if (child == 0) {
    if (!pin_current_thread(config.producer_cpu)) ::_exit(kProducerNotPinned);
    bool sent = false;
    try {
      sent = producer();
    } catch (const std::exception&) {
      sent = false;
    }
    ::_exit(sent ? 0 : kProducerFailed);
  }
  PassResult result;
  {
    const SavedAffinity restore_affinity;
    const bool consumer_pinned = pin_current_thread(config.consumer_cpu);
    try {
      result = consumer();
    } catch (const std::exception& failure) {
      result.error = failure.what();
    }
    if (result.error.empty() && !consumer_pinned) result.error = "cannot pin the consumer";
  }
  if (!result.error.empty()) ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (result.error.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    result.error = WIFEXITED(status) && WEXITSTATUS(status) == kProducerNotPinned
                       ? "cannot pin the producer"
                       : "producer process failed";
  }
  return result;
}

}  // namespace ringfile::bench::throughput
