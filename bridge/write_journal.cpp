#include "write_journal.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <limits>

#include "ringfile/programs/program.hpp"

namespace ringfile::bridge {
namespace {

using programs::RuntimeFailure;

static_assert(std::atomic_ref<std::uint64_t>::is_always_lock_free);

// JetStream counts sequences in signed 64 bits on the wire: a larger one is no stream's.
constexpr std::uint64_t kMostStreamSequence = std::numeric_limits<std::int64_t>::max();

std::atomic_ref<std::uint64_t> field(std::uint64_t& value) { return std::atomic_ref<std::uint64_t>(value); }

}  // namespace

WriteJournal::WriteJournal(const std::filesystem::path& path, const std::function<void()>& between_open_and_lock)
    : path_(path) {
  const std::string name = "'" + path.string() + "'";
  open_and_lock(name, between_open_and_lock);
  struct stat status {};
  if (::fstat(fd_, &status) != 0) {
    const int error = errno;
    give_up("cannot read " + name + ": " + std::strerror(error));
  }
  const bool fresh = status.st_size == 0;
  // Created here and still empty under the lock: no bridge has set it up, let alone used it.
  created_ = created_ && fresh;
  if (fresh && ::ftruncate(fd_, kJournalFileBytes) != 0) {
    const int error = errno;
    give_up("cannot size " + name + ": " + std::strerror(error));
  }
  if (!fresh && status.st_size != static_cast<off_t>(kJournalFileBytes)) {
    give_up(name + " is not a ringfile-bridge state file (wrong size); remove it or choose another --state");
  }
  void* mapping = ::mmap(nullptr, kJournalFileBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (mapping == MAP_FAILED) {
    const int error = errno;
    give_up("cannot map " + name + ": " + std::strerror(error));
  }
  layout_ = static_cast<JournalLayout*>(mapping);
  // A file of zeros was created by a bridge that stopped before its first recover(): fresh too.
  const bool initialised = layout_->magic != 0;
  if (!fresh && initialised && (layout_->magic != kJournalMagic || layout_->version != kJournalVersion)) {
    ::munmap(layout_, kJournalFileBytes);
    give_up(name + " is not a ringfile-bridge state file of version " + std::to_string(kJournalVersion) +
            "; remove it or choose another --state");
  }
}

void WriteJournal::open_and_lock(const std::string& name, const std::function<void()>& between_open_and_lock) {
  for (;;) {
    // O_EXCL tells whether this call created the file. It fails on any symbolic link, even one
    // to nothing yet: that is opened as before, through the link, creating its target.
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    created_ = fd_ >= 0;
    if (fd_ < 0 && errno == EEXIST) fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd_ < 0) {
      const int error = errno;
      throw RuntimeFailure("cannot open the bridge's state file " + name + ": " + std::strerror(error) +
                           "; choose a writable place with --state");
    }
    if (between_open_and_lock) between_open_and_lock();
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      const int error = errno;
      ::close(fd_);
      if (error == EWOULDBLOCK) {
        // By default the state file is named after the ring and the durable; --state may name
        // one file for several.
        throw RuntimeFailure("another ringfile-bridge in is running on the state file " + name +
                             " (the same ring and --durable, or the same --state); stop it first, or give "
                             "this one another --durable or --state");
      }
      throw RuntimeFailure("cannot lock " + name + ": " + std::strerror(error));
    }
    // The bridge that held the lock may have removed the file before letting go of it
    // (remove_if_created): then the path leads elsewhere, or nowhere, and this one starts again.
    struct stat locked {};
    struct stat named {};
    const bool named_elsewhere =
        ::fstat(fd_, &locked) == 0 &&
        (::stat(path_.c_str(), &named) != 0 ? errno == ENOENT
                                            : named.st_dev != locked.st_dev || named.st_ino != locked.st_ino);
    if (!named_elsewhere) return;
    ::close(fd_);
  }
}

void WriteJournal::give_up(const std::string& message) {
  // Removed before it is closed, so while still locked: see open_and_lock().
  if (created_) ::unlink(path_.c_str());
  ::close(fd_);
  throw RuntimeFailure(message);
}

void WriteJournal::remove_if_created() noexcept {
  // Under the lock, held until the destructor closes the file: see open_and_lock().
  if (created_) ::unlink(path_.c_str());
  created_ = false;
}

WriteJournal::~WriteJournal() {
  ::munmap(layout_, kJournalFileBytes);
  ::close(fd_);  // releases the lock
}

JournalRecovery WriteJournal::recover(const Ring& ring) {
  created_ = false;  // in use from here on
  JournalRecovery recovery;
  const std::uint64_t ring_identity = ring.info().creation_time_ns;
  if (layout_->magic != kJournalMagic || layout_->ring_identity != ring_identity) {
    // A new file, or a state about a ring since replaced by another at this path.
    std::memset(layout_, 0, sizeof(JournalLayout));
    layout_->version = kJournalVersion;
    layout_->ring_identity = ring_identity;
    // Release: the magic is stored last, so a crash meanwhile leaves a file treated as new.
    field(layout_->magic).store(kJournalMagic, std::memory_order_release);
    recovery.new_ring = true;
    return recovery;
  }
  // Acquire: pairs with the release stores of begin() and complete() (of the previous owner).
  const std::uint64_t written = field(layout_->written_sequence).load(std::memory_order_acquire);
  const std::uint64_t pending = field(layout_->pending_sequence).load(std::memory_order_acquire);
  if (written > kMostStreamSequence || pending > kMostStreamSequence) {
    throw RuntimeFailure("'" + path_.string() + "' is damaged (it names stream sequence " +
                         std::to_string(std::max(written, pending)) +
                         ", past any stream's); remove it: the durable's acknowledgements then tell where to go on");
  }
  recovery.written = written;
  if (pending <= written) return recovery;
  recovery.interrupted = true;
  recovery.interrupted_sequence = pending;
  const std::uint64_t position = layout_->pending_position;
  const std::uint64_t bytes = layout_->pending_bytes;
  if (const auto record = ring.record_at(position); record && record->payload_bytes == bytes) {
    recovery.interrupted_written = true;
    recovery.written = pending;
  } else if (ring.head_position() > position + ring.info().capacity_bytes) {
    recovery.undecidable = true;
  }
  complete(recovery.written);
  return recovery;
}

std::uint64_t WriteJournal::stream_creation_time() const noexcept {
  // Relaxed: only this process writes the field while it holds the lock.
  return field(layout_->stream_creation_time_ns).load(std::memory_order_relaxed);
}

void WriteJournal::note_stream_creation_time(std::uint64_t creation_time_ns) noexcept {
  // Relaxed: read by a later owner only after it takes the lock, which orders it.
  field(layout_->stream_creation_time_ns).store(creation_time_ns, std::memory_order_relaxed);
}

std::uint64_t WriteJournal::written() const noexcept {
  // Relaxed: only this process writes the field while it holds the lock.
  return field(layout_->written_sequence).load(std::memory_order_relaxed);
}

void WriteJournal::begin(std::uint64_t sequence, std::uint64_t position, std::uint64_t payload_bytes) noexcept {
  field(layout_->pending_position).store(position, std::memory_order_relaxed);
  field(layout_->pending_bytes).store(payload_bytes, std::memory_order_relaxed);
  // Release: publishes position and size with the sequence to recover() of a later owner; it is
  // stored before the record is committed, so a committed record always has its sequence here.
  field(layout_->pending_sequence).store(sequence, std::memory_order_release);
}

void WriteJournal::complete(std::uint64_t sequence) noexcept {
  // Release: pairs with recover()'s acquire load. The record's commit (a seq_cst CAS in the
  // library) precedes it, so the sequence is never marked written before its record is.
  field(layout_->written_sequence).store(sequence, std::memory_order_release);
  field(layout_->pending_sequence).store(sequence, std::memory_order_release);
}

}  // namespace ringfile::bridge
