#include "ring_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "atomics.hpp"
#include "open_rings.hpp"
#include "paging.hpp"
#include "ring_file_parts.hpp"
#include "ring_registry.hpp"
#include "ringfile/error.hpp"
#include "view_size.hpp"

namespace ringfile::detail {
namespace {

namespace bip = boost::interprocess;
using format::FileHeader;
using format::FileIdentity;

// A ring file with holes (copied by a tool that keeps them: `cp --sparse=always`, `rsync -S`, a
// backup) on a filesystem that cannot back them: the first write into a hole, and on tmpfs the
// first read of one, raises SIGBUS, in whatever process touches it. Creation reserves every
// block, and the paging engine reserves again what it punches, so a ring has holes only so. Where
// this process may write, the blocks are reserved now (fallocate keeps the bytes); a reader of a
// file on tmpfs, which takes a page for each hole it reads, is refused when they do not fit.
void back_every_block(int fd, const std::filesystem::path& path, const struct stat& status, bool read_only,
                      bool memory_backed) {
  const auto size = static_cast<std::uint64_t>(status.st_size);
  const auto allocated = static_cast<std::uint64_t>(status.st_blocks) * 512;
  if (allocated >= size) return;
  // Before the attempt: a reservation that fails may have taken what was free.
  const std::optional<FreeSpace> free = free_space(fd);
  if (!read_only) {
    // FALLOC_FL_KEEP_SIZE: a file cut short since the fstat above stays short (and is found so).
    if (::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, static_cast<off_t>(size)) == 0) return;
    // Without fallocate here (EOPNOTSUPP) there is nothing to reserve with: as before.
    if (errno != ENOSPC && errno != EDQUOT) return;
  } else if (!memory_backed) {
    return;  // a read of a hole on disk takes no block
  }
  const std::uint64_t missing = size - allocated;
  if (read_only && (!free || free->usable >= missing)) return;
  throw Error(ErrorCode::no_space,
              describe(path) + " has holes (copied with them kept?): " + human_bytes(missing) +
                  " of it has no blocks, and the filesystem has " + describe_free_space(free, missing) +
                  " free for them; free space, or copy the ring without holes (cp --sparse=never)");
}

}  // namespace

std::shared_ptr<RingFile> RingFile::open(const std::filesystem::path& path, const OpenOptions& open_options,
                                         SlotCheck slot_check) {
  std::shared_ptr<RingFile> file(new RingFile());
  file->open_validated(path, open_options, slot_check);
  return file;
}

RingFile::~RingFile() {
  leave_open_ring(open_ring_entry_);
  if (fd_ >= 0) ::close(fd_);
}

void RingFile::open_validated(const std::filesystem::path& path, const OpenOptions& open_options,
                              SlotCheck slot_check) {
  path_ = path;
  read_only_ = open_options.read_only;
  occupy_closed_standard_descriptors();
  FileDescriptor file;
  // Not blocking: opening a FIFO for reading would wait for a writer (it is refused below).
  file.fd = ::open(path.c_str(), (read_only_ ? O_RDONLY : O_RDWR) | O_CLOEXEC | O_NONBLOCK);
  if (file.fd < 0) {
    if (errno == EISDIR) {
      throw Error(ErrorCode::not_a_ring, describe(path) + " is a directory, not a ring file");
    }
    throw_errno(errno, path, read_only_ ? "opening the ring for reading" : "opening the ring for writing");
  }
  struct stat status {};
  if (::fstat(file.fd, &status) != 0) throw_errno(errno, path, "reading the file's size");
  if (!S_ISREG(status.st_mode)) {
    throw Error(ErrorCode::not_a_ring, describe(path) + " is not a regular file, so not a ring");
  }
  ::fcntl(file.fd, F_SETFL, ::fcntl(file.fd, F_GETFL) & ~O_NONBLOCK);  // no effect on a regular file
  const auto file_bytes = static_cast<std::uint64_t>(status.st_size);

  FileIdentity identity{};
  const ssize_t read_bytes = ::pread(file.fd, &identity, sizeof identity, 0);
  if (read_bytes < 0) throw_errno(errno, path, "reading the ring header");
  if (static_cast<std::size_t>(read_bytes) < sizeof identity.magic ||
      std::memcmp(identity.magic, format::kMagic, sizeof identity.magic) != 0) {
    throw Error(ErrorCode::not_a_ring, describe(path) +
                                           " is not a ring file (no RINGFILE magic at its start)");
  }
  if (static_cast<std::size_t>(read_bytes) < sizeof identity) {
    throw Error(ErrorCode::truncated, describe(path) + " is truncated: " + std::to_string(file_bytes) +
                                          " bytes, shorter than the ring header");
  }
  validate_identity(identity, file_bytes);
  if (open_options.view_bytes > kMaxCapacity) {
    throw Error(ErrorCode::invalid_argument, describe(path) + ": view size out of range");
  }
  memory_backed_ = on_tmpfs(file.fd);
  back_every_block(file.fd, path, status, read_only_, memory_backed_);
  info_.view_bytes = choose_view_bytes(open_options.view_bytes, info_.capacity_bytes, memory_backed_, info_.paging,
                                       open_options.resident_budget_bytes);

  // Boost's mapping opens the file once more; it must still be the file that was validated.
  try {
    mapping_ = bip::file_mapping(path.c_str(), read_only_ ? bip::read_only : bip::read_write);
    header_region_ = bip::mapped_region(mapping_, read_only_ ? bip::read_only : bip::read_write, 0,
                                        format::kHeaderSegmentBytes);
  } catch (const bip::interprocess_exception& error) {
    throw Error(ErrorCode::io_error, describe(path) + ": mapping the header failed: " + error.what());
  }
  struct stat mapped_status {};
  if (::fstat(mapping_.get_mapping_handle().handle, &mapped_status) != 0 ||
      mapped_status.st_ino != status.st_ino || mapped_status.st_dev != status.st_dev) {
    throw Error(ErrorCode::io_error, describe(path) + " was replaced while it was being opened; retry");
  }
  header_ = static_cast<FileHeader*>(header_region_.get_address());
  // The identity may not change after validation: compare the mapped copy with what was checked.
  if (std::memcmp(&header_->identity, &identity, sizeof identity) != 0) {
    throw Error(ErrorCode::corrupt, describe(path) + ": the header changed while being opened; retry");
  }
  fd_ = file.release();
  device_ = status.st_dev;
  inode_ = status.st_ino;
  validate_tables(slot_check);
  join_session(session_key(fd_));
  open_ring_entry_ = enter_open_ring(fd_, info_.data_offset + info_.capacity_bytes, path.string());
  resident_budget_override_ = open_options.resident_budget_bytes;
  // A ring on disk without the engine keeps every page it wrote in memory: counted as such
  // while it is open for writing, so that the engine's rings budget around it and automatic
  // paging keeps no more rings whole than memory holds (memory_budget.hpp).
  if (!read_only_ && !memory_backed_ && info_.paging == PagingStrategy::none) {
    whole_registration_.emplace(fd_, info_.capacity_bytes);
  }
}

bool RingFile::path_names_this_file() const noexcept {
  struct stat named {};
  return ::stat(path_.c_str(), &named) == 0 && named.st_dev == device_ && named.st_ino == inode_;
}

bool RingFile::is_open_as(int fd) const noexcept {
  struct stat status {};
  return ::fstat(fd, &status) == 0 && status.st_dev == device_ && status.st_ino == inode_;
}

void RingFile::validate_identity(const FileIdentity& identity, std::uint64_t file_bytes) {
  const auto corrupt = [&](const std::string& what) {
    throw Error(ErrorCode::corrupt, describe(path_) + ": corrupt header: " + what +
                                        "; the file is damaged, restore it or create a new ring");
  };
  if (identity.version_major < format::kOldestVersionMajor || identity.version_major > format::kVersionMajor) {
    // A writer of any version seals its identity with this checksum (format.md, "Versions"); where it
    // does not hold, the version is more likely damage than a build to look for (found by a
    // tester: a damaged version field was met with "use a matching ringfile build").
    const bool sealed = identity.identity_crc32c == identity_crc(identity);
    throw Error(ErrorCode::version_mismatch,
                describe(path_) + " has ring format version " + std::to_string(identity.version_major) + "." +
                    std::to_string(identity.version_minor) + "; this build reads versions " +
                    std::to_string(format::kOldestVersionMajor) + ".x to " + std::to_string(format::kVersionMajor) +
                    (sealed ? ".x; use a matching ringfile build"
                            : ".x, and its identity checksum does not match: the header is likely damaged; restore "
                              "the file or create a new ring"));
  }
  if (identity.identity_crc32c != identity_crc(identity)) corrupt("identity checksum mismatch");
  if (identity.header_bytes != format::kHeaderSegmentBytes) corrupt("unexpected header size");
  if (identity.data_offset != format::kHeaderSegmentBytes) corrupt("unexpected data offset");
  if (identity.data_capacity < kMinCapacity || identity.data_capacity > kMaxCapacity ||
      identity.data_capacity % format::kPageBytes != 0) {
    corrupt("data capacity " + std::to_string(identity.data_capacity) + " out of range");
  }
  if (!policy_from_code(identity.writer_policy)) corrupt("unknown writer policy " + std::to_string(identity.writer_policy));
  if (identity.paging_strategy > static_cast<std::uint8_t>(format::PagingStrategyCode::prefetch_only)) {
    corrupt("unknown paging strategy " + std::to_string(identity.paging_strategy));
  }
  if (identity.producer_slot_count != format::kProducerSlotCount ||
      identity.consumer_slot_count != format::kConsumerSlotCount) {
    corrupt("unexpected slot table sizes");
  }
  const std::uint64_t max_stride =
      format::frame_stride(format::kRecordHeaderBytes + identity.max_record_bytes);
  if (identity.max_record_bytes > format::kMostRecordBytes) {
    corrupt("maximum record size " + std::to_string(identity.max_record_bytes) + " is above the format's largest (" +
            std::to_string(format::kMostRecordBytes) + ")");
  }
  if (identity.max_record_bytes == 0 || max_stride > identity.data_capacity / 2) {
    corrupt("maximum record size " + std::to_string(identity.max_record_bytes) +
            " does not fit the capacity");
  }
  if (identity.unblock_timeout_ms == 0) corrupt("unblock timeout is zero");
  if (identity.hold_window_bytes != 0 &&
      (identity.hold_window_bytes > identity.data_capacity || identity.hold_window_bytes < 2 * max_stride)) {
    corrupt("hold window " + std::to_string(identity.hold_window_bytes) + " does not fit the capacity");
  }
  const std::uint64_t expected_bytes = identity.data_offset + identity.data_capacity;
  if (file_bytes < expected_bytes) {
    throw Error(ErrorCode::truncated,
                describe(path_) + " is truncated: " + std::to_string(file_bytes) +
                    " bytes, but its header describes " + std::to_string(expected_bytes) +
                    "; the file was cut short, restore it or create a new ring");
  }
  if (file_bytes > expected_bytes) {
    corrupt("file is " + std::to_string(file_bytes) + " bytes but the capacity in the header needs " +
            std::to_string(expected_bytes));
  }

  geometry_.set_capacity(identity.data_capacity);
  geometry_.max_record_bytes = identity.max_record_bytes;
  geometry_.max_frame_stride = max_stride;
  geometry_.lap_tag_salt = identity.lap_tag_salt;
  if (identity.version_major >= 3) {
    // Within a maximum-size frame, within what an entry can name, and leaving the room a
    // reservation needs beside a cursor held back by it (2 maximum-size frames, see paging_sizes.cpp's
    // minimum hold): producers keep group_span behind each cursor.
    geometry_.group_span = std::min({max_stride, format::kMostGroupEntryOffset, identity.data_capacity - 2 * max_stride});
  }

  info_.path = path_;
  info_.version_major = identity.version_major;
  info_.version_minor = identity.version_minor;
  info_.capacity_bytes = identity.data_capacity;
  info_.data_offset = identity.data_offset;
  info_.file_bytes = file_bytes;
  info_.creation_time_ns = identity.creation_time_ns;
  info_.policy = policy_from_code(identity.writer_policy).value_or(WriterPolicy::block);  // checked above
  info_.paging = from_code(static_cast<format::PagingStrategyCode>(identity.paging_strategy));
  info_.max_record_bytes = identity.max_record_bytes;
  info_.unblock_timeout = std::chrono::milliseconds(identity.unblock_timeout_ms);
  info_.consumer_grace = std::chrono::milliseconds(identity.consumer_grace_ms);
  info_.hold_window_bytes = identity.hold_window_bytes;
}

std::vector<DamagedSlot> RingFile::damaged_slots() const {
  // A cursor beyond the head is not looked for here: the header's pages may come from different
  // moments after a crash of the machine, and one consumer's cursor must not make the whole
  // ring unreadable. Attaching under that name reports it (consumer_attach.cpp).
  // Acquire loads throughout: they pair with the release (or seq_cst) stores of the processes
  // using the ring now, so that what is checked is what they published.
  std::vector<DamagedSlot> damaged;
  // Each problem appended to an empty string: a braced initializer's copy of a literal made GCC 12
  // warn falsely here (-Wstringop-overread, reading past a 16-byte buffer).
  const auto add = [&damaged](bool producer, std::uint32_t index, const char* before,
                              std::optional<std::uint64_t> value = {}, const char* after = "") {
    DamagedSlot& slot = damaged.emplace_back();
    slot.producer = producer;
    slot.index = index;
    slot.problem.append(before);
    if (value) slot.problem.append(std::to_string(*value));
    slot.problem.append(after);
  };
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    const auto& slot = header_->consumers[index];
    const auto state = load_field(slot.state, std::memory_order_acquire);
    const std::uint64_t cursor = load_field(slot.cursor, std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(format::ConsumerState::detached)) {
      add(false, index, "unknown state ", state);
    } else if (state != 0 && cursor % format::kFrameAlignment != 0) {
      add(false, index, "cursor ", cursor, " is not 8-byte aligned");
    } else if (state != 0 && std::memchr(slot.name, '\0', sizeof slot.name) == nullptr) {
      add(false, index, "name is not terminated");
    }
  }
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    const auto state = load_field(header_->producers[index].state, std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(format::ProducerState::active)) {
      add(true, index, "unknown state ", state);
    }
  }
  return damaged;
}

void RingFile::validate_tables(SlotCheck slot_check) const {
  const auto corrupt = [&](const std::string& what) {
    throw Error(ErrorCode::corrupt, describe(path_) + ": corrupt " + what +
                                        "; the file is damaged, restore it or create a new ring");
  };
  if (slot_check == SlotCheck::refuse_damaged) {
    if (const std::vector<DamagedSlot> damaged = damaged_slots(); !damaged.empty()) {
      const DamagedSlot& first = damaged.front();
      const std::size_t others = damaged.size() - 1;
      throw Error(ErrorCode::corrupt,
                  describe(path_) + ": corrupt " + (first.producer ? "producer" : "consumer") + " slot " +
                      std::to_string(first.index) + ": " + first.problem +
                      (others == 0 ? ""
                                   : " (and " + std::to_string(others) + " more damaged slot" +
                                         (others == 1 ? ")" : "s)")) +
                      "; free the damaged slots (clear_damaged_slots, or ringfile-consumer '" + path_.string() +
                      "' --clear-damaged-slots: what they held is lost, the records are kept), restore the "
                      "file, or create a new ring");
    }
  }
  const std::uint64_t head = load_field(header_->head_position.value, std::memory_order_acquire);
  if (head % format::kFrameAlignment != 0) {
    corrupt("head position " + std::to_string(head) + " is not 8-byte aligned");
  }
  // Nor one with no room left for a record before the last position: no producer gets there (at
  // 100 GB/s it takes 1,400 years), and a forged one opened as a working ring that read nothing
  // and that a named consumer had lost "4096.0 PiB" of (found by a tester).
  if (!format::plausible_position(head) || head > format::kMostPosition - geometry_.max_frame_stride) {
    corrupt("head position " + std::to_string(head) + " is absurd");
  }
  const std::uint64_t capacity = geometry_.capacity;
  const std::uint64_t prepared = load_field(header_->prepared_position.value, std::memory_order_acquire);
  const std::uint64_t released = load_field(header_->released_position.value, std::memory_order_acquire);
  const std::uint64_t preparing = load_field(header_->preparation.preparing_end, std::memory_order_acquire);
  if (prepared > head + 2 * capacity || released > head || preparing > prepared + capacity) {
    corrupt("paging frontiers (prepared " + std::to_string(prepared) + ", preparing " + std::to_string(preparing) +
            ", released " + std::to_string(released) + ") do not fit the head " + std::to_string(head));
  }
}

std::unique_lock<std::mutex> RingFile::lock_tables() {
  std::unique_lock<std::mutex> guard(table_mutex_);
  // flock, not Boost's fcntl-based file_lock: fcntl locks vanish when the process closes *any*
  // descriptor of the file, which a library inside someone else's process cannot rule out.
  while (::flock(fd_, LOCK_EX) != 0) {
    if (errno != EINTR) throw_errno(errno, path_, "locking the slot tables");
  }
  return guard;
}

std::unique_lock<std::mutex> RingFile::try_lock_tables() {
  std::unique_lock<std::mutex> guard(table_mutex_, std::try_to_lock);
  if (!guard.owns_lock()) return guard;
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      guard.unlock();
      return guard;
    }
    if (errno != EINTR) throw_errno(errno, path_, "locking the slot tables");
  }
  return guard;
}

void RingFile::unlock_tables(std::unique_lock<std::mutex>& guard) {
  ::flock(fd_, LOCK_UN);
  guard.unlock();
}

}  // namespace ringfile::detail
