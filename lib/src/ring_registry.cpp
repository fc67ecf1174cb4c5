#include "ring_registry.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ringfile::detail {
namespace {

// RINGFILE_REGISTRY_DIR moves it (tests that must not see the machine's other rings).
std::string registry_directory() {
  const char* chosen = std::getenv("RINGFILE_REGISTRY_DIR");
  return chosen != nullptr && *chosen != '\0' ? chosen : "/dev/shm/ringfile-rings";
}

bool ensure_directory(const std::string& directory) {
  if (::mkdir(directory.c_str(), 01777) == 0) {
    ::chmod(directory.c_str(), 01777);  // the umask must not keep other users out
    return true;
  }
  return errno == EEXIST;
}

// An entry's file holds the capacity of a ring kept whole, and nothing for a ring the engine
// works on. Anyone may write these files (mode 0666): a value past the largest ring is not one.
constexpr std::uint64_t kLargestWholeBytes = std::uint64_t{1} << 40;

bool write_entry(int fd, std::uint64_t whole_bytes) {
  // A ring's inode may be reused by a ring of the other kind before a counter removed the old
  // entry: the content is written afresh either way.
  if (whole_bytes == 0) return ::ftruncate(fd, 0) == 0;
  return ::pwrite(fd, &whole_bytes, sizeof whole_bytes, 0) == static_cast<ssize_t>(sizeof whole_bytes);
}

std::uint64_t read_whole_bytes(int fd) {
  std::uint64_t whole_bytes = 0;
  if (::pread(fd, &whole_bytes, sizeof whole_bytes, 0) != static_cast<ssize_t>(sizeof whole_bytes)) return 0;
  return std::min(whole_bytes, kLargestWholeBytes);
}

// The directory is writable by every user: an entry may be anything another process put there.
// Opened without following a link and without blocking (a FIFO would block an open for
// reading until a writer came), and used only if it is a regular file.
int open_entry(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0666);
  if (fd < 0) return -1;
  struct stat entry {};
  if (::fstat(fd, &entry) != 0 || !S_ISREG(entry.st_mode)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

RingRegistration::RingRegistration(int ring_fd, std::uint64_t whole_bytes) noexcept {
  struct stat ring {};
  const std::string directory = registry_directory();
  if (::fstat(ring_fd, &ring) != 0 || !ensure_directory(directory)) return;
  char name[64];
  std::snprintf(name, sizeof name, "/%llx-%llx", static_cast<unsigned long long>(ring.st_dev),
                static_cast<unsigned long long>(ring.st_ino));
  const std::string path = directory + name;
  // A counter may find the file unlocked between our open and our lock, take it for a left-over
  // and unlink it: then we hold a lock on a name that is gone, and start again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = open_entry(path, O_RDWR | O_CREAT);
    if (fd < 0) return;
    ::fchmod(fd, 0666);  // other users' processes lock it too
    struct stat held {};
    struct stat named {};
    // Written before the lock: a counter reads only locked entries.
    if (write_entry(fd, whole_bytes) && ::flock(fd, LOCK_SH) == 0 &&
        ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
      entry_fd_ = fd;
      return;
    }
    ::close(fd);
  }
}

RingRegistration::~RingRegistration() {
  // Closing drops the lock; the file stays for the ring's next producer or the next counter.
  if (entry_fd_ >= 0) ::close(entry_fd_);
}

OpenRings RingRegistration::open_rings() noexcept {
  OpenRings open;
  const std::string directory = registry_directory();
  DIR* listing = ::opendir(directory.c_str());
  if (listing == nullptr) return open;
  while (const dirent* entry = ::readdir(listing)) {
    if (entry->d_name[0] == '.') continue;
    const std::string path = directory + "/" + entry->d_name;
    const int fd = open_entry(path, O_RDONLY);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {  // someone holds it: the ring is open
        const std::uint64_t whole_bytes = read_whole_bytes(fd);
        if (whole_bytes == 0) {
          ++open.paged;
        } else {
          open.whole_bytes = std::min(open.whole_bytes + whole_bytes, kLargestWholeBytes);
        }
      }
    } else {
      ::unlink(path.c_str());  // nobody holds it: left over (may fail for another user's file)
      ::flock(fd, LOCK_UN);
    }
    ::close(fd);
  }
  ::closedir(listing);
  return open;
}

}  // namespace ringfile::detail
