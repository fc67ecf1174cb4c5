// The ring's session (format::SessionLine): which generation of frames a consumer may read past
// the head it last loaded. See file_header.hpp for why, and docs/durability.md for the crash it
// guards against.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <span>
#include <string>

#include "atomics.hpp"
#include "ring_file.hpp"
#include "ringfile/error.hpp"
#include "ringfile/system/cgroups.hpp"
#include "ringfile/system/fnv1a.hpp"

namespace ringfile::detail {
namespace {

// The kernel's id of this boot: a new one after every restart of the machine. Empty when it
// cannot be read (no /proc): then no session is recorded and frames past the head are never read.
const std::string& boot_id() {
  static const std::string id = system::read_text_file("/proc/sys/kernel/random/boot_id").value_or("");
  return id;
}

}  // namespace

std::uint64_t RingFile::session_key(int fd) {
  const std::string& boot = boot_id();
  if (boot.empty()) return 0;
  // The birth time tells a file restored from a copy apart from the original whose inode number
  // it may have been given, where the filesystem keeps one (ext4, xfs, btrfs, tmpfs).
  struct statx status {};
  if (::statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_BTIME, &status) != 0) return 0;
  const std::uint64_t file[] = {status.stx_dev_major, status.stx_dev_minor, status.stx_ino,
                                (status.stx_mask & STATX_BTIME) != 0 ? static_cast<std::uint64_t>(status.stx_btime.tv_sec) : 0,
                                (status.stx_mask & STATX_BTIME) != 0 ? status.stx_btime.tv_nsec : 0u};
  const std::uint64_t key = system::fnv1a(std::as_bytes(std::span(file)), system::fnv1a(std::as_bytes(std::span(boot))));
  return key == 0 ? 1 : key;  // 0 means "no session"
}

void RingFile::join_session(std::uint64_t key) {
  frame_generation_ = 0;
  if (key == 0) return;
  format::SessionLine& session = header_->session;
  // Acquire: pairs with the release store of the key below, made after the generation it
  // belongs to was durable.
  if (load_field(session.session_key, std::memory_order_acquire) != key) {
    // Read-only (a tap, ringfile-status): cannot start the session, so trusts no frame past the
    // head until it opens the ring again after a writer has.
    if (read_only_) return;
    TableLock lock(*this);
    // Relaxed under the table lock: every writer of the session line holds it.
    if (load_field(session.session_key, std::memory_order_relaxed) != key) {
      atomic_field(session.generation)
          .store(load_field(session.generation, std::memory_order_relaxed) + 1, std::memory_order_relaxed);
      // The new generation must be on the disk before any frame carrying it: else a crash could
      // bring back the old one together with frames of the new, and the next session would
      // start the same generation again and read those frames past its head.
      if (::msync(header_, format::kPageBytes, MS_SYNC) != 0) {
        throw Error(ErrorCode::io_error, "'" + path_.string() + "': making the ring's new session durable failed: " +
                                             std::strerror(errno));
      }
      atomic_field(session.session_key).store(key, std::memory_order_release);
    }
  }
  // Relaxed: ordered after the acquire load of the key above (or written by this thread).
  frame_generation_ = format::frame_generation(load_field(session.generation, std::memory_order_relaxed));
}

}  // namespace ringfile::detail
