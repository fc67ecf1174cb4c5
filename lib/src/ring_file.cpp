#include "ring_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "atomics.hpp"
#include "clock.hpp"
#include "memory_budget.hpp"
#include "open_rings.hpp"
#include "paging.hpp"
#include "ring_registry.hpp"
#include "ringfile/crc32c.hpp"
#include "ringfile/error.hpp"
#include "view_size.hpp"

namespace ringfile::detail {
namespace {

// The policy as the file stores it (format::WriterPolicyCode), and back; nullopt for a code no
// version of the format uses.
format::WriterPolicyCode policy_code(WriterPolicy policy) noexcept {
  return policy == WriterPolicy::overwrite ? format::WriterPolicyCode::overwrite : format::WriterPolicyCode::block;
}
std::optional<WriterPolicy> policy_from_code(std::uint8_t code) noexcept {
  switch (static_cast<format::WriterPolicyCode>(code)) {
    case format::WriterPolicyCode::block: return WriterPolicy::block;
    case format::WriterPolicyCode::overwrite: return WriterPolicy::overwrite;
  }
  return std::nullopt;
}

namespace bip = boost::interprocess;
using format::FileHeader;
using format::FileIdentity;

constexpr std::uint64_t kMinCapacity = 64 * kKiB;
constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 50;  // 1 PiB: far beyond any disk here

std::string describe(const std::filesystem::path& path) { return "'" + path.string() + "'"; }

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 5) {
    value /= 1024;
    ++unit;
  }
  char text[64];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

[[noreturn]] void throw_errno(int error, const std::filesystem::path& path, const char* doing) {
  if (error == EACCES || error == EPERM || error == EROFS) {
    throw Error(ErrorCode::permission_denied,
                describe(path) + ": permission denied while " + doing +
                    "; check the file's owner and mode, or run as a user who may access it");
  }
  if (error == ENOENT) {
    throw Error(ErrorCode::not_found,
                describe(path) + ": no such file; create the ring first (ringfile-producer --create)");
  }
  if (error == ENOSPC || error == EDQUOT) {
    throw Error(ErrorCode::no_space, describe(path) + ": no space left on the device while " +
                                         doing + "; free space or choose a smaller ring");
  }
  throw Error(ErrorCode::io_error,
              describe(path) + ": " + doing + " failed: " + std::strerror(error));
}

std::uint32_t identity_crc(const FileIdentity& identity) {
  return crc32c({reinterpret_cast<const std::byte*>(&identity),
                 offsetof(FileIdentity, identity_crc32c)});
}

struct FileDescriptor {
  int fd = -1;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
  int release() {
    const int released = fd;
    fd = -1;
    return released;
  }
};

// A process started with standard input, output or error closed gets the ring's descriptor in
// that place from the next open(), and whatever it then writes to stdout or stderr (its output,
// an error message, a library's) goes into the ring over the header. /dev/null takes any such
// place first, as if the process had been started with it there.
void occupy_closed_standard_descriptors() noexcept {
  for (int standard = 0; standard <= 2; ++standard) {
    if (::fcntl(standard, F_GETFD) >= 0 || errno != EBADF) continue;
    const int placed = ::open("/dev/null", O_RDWR);  // the lowest free descriptor: this one
    if (placed >= 0 && placed != standard) ::close(placed);  // taken meanwhile by another thread
  }
}

// The space the ring's blocks may come from: what an unprivileged process may use, or with the
// privilege to use the filesystem's reserved blocks, all that is free.
std::optional<std::uint64_t> free_bytes(int fd) noexcept {
  struct statvfs filesystem {};
  if (::fstatvfs(fd, &filesystem) != 0) return std::nullopt;
  const std::uint64_t blocks = ::geteuid() == 0 ? filesystem.f_bfree : filesystem.f_bavail;
  return static_cast<std::uint64_t>(blocks) * filesystem.f_frsize;
}

void validate_create_options(const std::filesystem::path& path, const CreateOptions& options) {
  const auto fail = [&](const std::string& what) {
    throw Error(ErrorCode::invalid_argument, describe(path) + ": " + what);
  };
  if (options.capacity_bytes < kMinCapacity) {
    fail("capacity " + human_bytes(options.capacity_bytes) + " is below the minimum of " +
         human_bytes(kMinCapacity));
  }
  if (options.capacity_bytes > kMaxCapacity) fail("capacity above 1 PiB is not supported");
  if (options.capacity_bytes % format::kPageBytes != 0) {
    fail("capacity must be a multiple of 4096 bytes (got " +
         std::to_string(options.capacity_bytes) + ")");
  }
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + options.max_record_bytes);
  if (stride > options.capacity_bytes / 2) {
    fail("maximum record size " + human_bytes(options.max_record_bytes) +
         " needs a capacity of at least " + human_bytes(2 * stride) + " (got " +
         human_bytes(options.capacity_bytes) + "); lower --max-record or raise --size");
  }
  if (options.policy != WriterPolicy::block && options.policy != WriterPolicy::overwrite) {
    fail("unknown writer policy");
  }
  if (options.hold_window_bytes != 0 && options.hold_window_bytes < options.capacity_bytes &&
      options.hold_window_bytes < 2 * stride) {
    fail("hold window " + human_bytes(options.hold_window_bytes) + " is below two maximum-size records (" +
         human_bytes(2 * stride) + "); raise --hold-window or lower --max-record");
  }
  if (options.unblock_timeout.count() <= 0 || options.unblock_timeout.count() > 0xffffffffLL ||
      options.consumer_grace.count() < 0 || options.consumer_grace.count() > 0xffffffffLL) {
    fail("unblock timeout and consumer grace must be between 1 ms and 49 days");
  }
}

}  // namespace

std::shared_ptr<RingFile> RingFile::create(const std::filesystem::path& path,
                                           const CreateOptions& requested_options,
                                           const OpenOptions& open_options) {
  CreateOptions create_options = requested_options;
  if (create_options.max_record_bytes == 0 && create_options.capacity_bytes >= kMinCapacity) {
    constexpr std::uint64_t kDefaultMaxRecord = 16 * kMiB;
    create_options.max_record_bytes = static_cast<std::uint32_t>(
        std::min(kDefaultMaxRecord, create_options.capacity_bytes / 4 - format::kRecordHeaderBytes));
  }
  validate_create_options(path, create_options);
  const std::uint64_t file_bytes = format::kHeaderSegmentBytes + create_options.capacity_bytes;

  // Build the file under a temporary name and link it into place when complete, so that no
  // process ever opens a half-written header.
  const std::filesystem::path temporary =
      path.string() + ".creating." + std::to_string(::getpid());
  occupy_closed_standard_descriptors();
  FileDescriptor file;
  file.fd = ::open(temporary.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                   create_options.file_mode);
  if (file.fd < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    // Not the ring that is missing (we are creating it) but the directory it goes in.
    const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
    if (errno == ENOTDIR) {
      throw Error(ErrorCode::not_found, describe(path) + ": a part of '" + directory.string() +
                                            "' is a file, not a directory; choose a path in a directory");
    }
    throw Error(ErrorCode::not_found, describe(path) + ": the directory '" + directory.string() +
                                          "' does not exist; create it first (mkdir -p '" + directory.string() + "')");
  }
  if (file.fd < 0) throw_errno(errno, path, "creating the ring file");
  struct Unlinker {
    const std::filesystem::path& path;
    ~Unlinker() { ::unlink(path.c_str()); }
  } unlink_temporary{temporary};
  ::fchmod(file.fd, create_options.file_mode);  // the umask must not narrow what was asked

  // Reserve every block now: a sparse ring could meet ENOSPC at write-back and SIGBUS a producer.
  // The free space is read first: a reservation that fails takes what it got until the file is
  // unlinked (every other writer on the filesystem may meet ENOSPC meanwhile), and leaves
  // nothing free to report.
  const std::optional<std::uint64_t> free_before = free_bytes(file.fd);
  const auto no_space = [&] {
    throw Error(ErrorCode::no_space, describe(path) + ": the ring needs " + human_bytes(file_bytes) +
                                         " but the filesystem has " +
                                         (free_before ? human_bytes(*free_before) : std::string("unknown")) +
                                         " free; free space or choose a smaller --size");
  };
  if (free_before && *free_before < file_bytes) no_space();
  int reserve_error = ::fallocate(file.fd, 0, 0, static_cast<off_t>(file_bytes)) == 0 ? 0 : errno;
  if (reserve_error == EOPNOTSUPP) {
    reserve_error = ::posix_fallocate(file.fd, 0, static_cast<off_t>(file_bytes));
  }
  if (reserve_error == ENOSPC || reserve_error == EDQUOT) no_space();
  if (reserve_error != 0) throw_errno(reserve_error, path, "reserving the ring's blocks");

  std::vector<std::byte> header_bytes(format::kHeaderSegmentBytes);
  auto& header = *reinterpret_cast<FileHeader*>(header_bytes.data());
  FileIdentity& identity = header.identity;
  std::memcpy(identity.magic, format::kMagic, sizeof identity.magic);
  identity.version_major = format::kVersionMajor;
  identity.version_minor = format::kVersionMinor;
  identity.header_bytes = static_cast<std::uint32_t>(format::kHeaderSegmentBytes);
  identity.data_offset = format::kHeaderSegmentBytes;
  identity.data_capacity = create_options.capacity_bytes;
  identity.creation_time_ns = realtime_ns();
  identity.max_record_bytes = create_options.max_record_bytes;
  identity.writer_policy = static_cast<std::uint8_t>(policy_code(create_options.policy));
  // Automatic weighs the ring against the rings kept whole that are open now (the registry).
  const std::uint64_t whole_bytes_open =
      create_options.paging == PagingStrategy::automatic ? RingRegistration::open_rings().whole_bytes : 0;
  const PagingStrategy paging = resolve_paging_strategy(file.fd, create_options.capacity_bytes, create_options.paging,
                                                        memory_for_rings(), whole_bytes_open);
  identity.paging_strategy = static_cast<std::uint8_t>(to_code(paging));
  identity.producer_slot_count = format::kProducerSlotCount;
  identity.consumer_slot_count = format::kConsumerSlotCount;
  identity.unblock_timeout_ms = static_cast<std::uint32_t>(create_options.unblock_timeout.count());
  identity.consumer_grace_ms = static_cast<std::uint32_t>(create_options.consumer_grace.count());
  identity.lap_tag_salt = static_cast<std::uint32_t>(std::random_device{}()) | 1u;
  identity.hold_window_bytes = std::min(create_options.hold_window_bytes, create_options.capacity_bytes);
  identity.identity_crc32c = identity_crc(identity);
  // Nothing written yet: producers may fill the first lap without asking consumers.
  header.producer_limit.value = create_options.capacity_bytes;
  // With the paging engine even the first lap goes through preparation (cheap: the blocks are
  // unwritten), so that write-back paces producers from the start and memory stays bounded.
  const std::uint64_t prepared = paging == PagingStrategy::none ? create_options.capacity_bytes : 0;
  header.prepared_position.value = prepared;
  header.preparation.preparing_end = prepared;

  std::size_t written = 0;
  while (written < header_bytes.size()) {
    const ssize_t result = ::pwrite(file.fd, header_bytes.data() + written,
                                    header_bytes.size() - written, static_cast<off_t>(written));
    if (result < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, path, "writing the ring header");
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fdatasync(file.fd) != 0) throw_errno(errno, path, "syncing the ring header");
  if (::link(temporary.c_str(), path.c_str()) != 0) {
    if (errno == EEXIST) {
      throw Error(ErrorCode::exists, describe(path) +
                                         ": a file already exists there; remove it or open it "
                                         "instead of creating");
    }
    throw_errno(errno, path, "linking the new ring into place");
  }
  return open(path, open_options);
}

std::shared_ptr<RingFile> RingFile::open(const std::filesystem::path& path,
                                         const OpenOptions& open_options) {
  std::shared_ptr<RingFile> file(new RingFile());
  file->open_validated(path, open_options);
  return file;
}

RingFile::~RingFile() {
  leave_open_ring(open_ring_entry_);
  if (fd_ >= 0) ::close(fd_);
}

void RingFile::open_validated(const std::filesystem::path& path, const OpenOptions& open_options) {
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
  validate_tables();
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

void RingFile::validate_identity(const FileIdentity& identity, std::uint64_t file_bytes) {
  const auto corrupt = [&](const std::string& what) {
    throw Error(ErrorCode::corrupt, describe(path_) + ": corrupt header: " + what +
                                        "; the file is damaged, restore it or create a new ring");
  };
  if (identity.version_major < format::kOldestVersionMajor || identity.version_major > format::kVersionMajor) {
    throw Error(ErrorCode::version_mismatch,
                describe(path_) + " has ring format version " +
                    std::to_string(identity.version_major) + "." +
                    std::to_string(identity.version_minor) + "; this build reads versions " +
                    std::to_string(format::kOldestVersionMajor) + ".x to " +
                    std::to_string(format::kVersionMajor) + ".x; use a matching ringfile build");
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
    // reservation needs beside a cursor held back by it (2 maximum-size frames, see paging.cpp's
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

void RingFile::validate_tables() const {
  const auto corrupt = [&](const std::string& what) {
    throw Error(ErrorCode::corrupt, describe(path_) + ": corrupt " + what +
                                        "; the file is damaged, restore it or create a new ring");
  };
  // A cursor beyond the head is not checked here: the header's pages may come from different
  // moments after a crash of the machine, and one consumer's cursor must not make the whole
  // ring unreadable. Attaching under that name reports it (consumer_attach.cpp).
  // Acquire loads throughout: they pair with the release (or seq_cst) stores of the processes
  // using the ring now, so that what is checked is what they published.
  for (std::uint32_t index = 0; index < format::kConsumerSlotCount; ++index) {
    const auto& slot = header_->consumers[index];
    const auto state = load_field(slot.state, std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(format::ConsumerState::detached)) {
      corrupt("consumer slot " + std::to_string(index) + ": unknown state " + std::to_string(state));
    }
    if (state == 0) continue;
    const std::uint64_t cursor = load_field(slot.cursor, std::memory_order_acquire);
    if (cursor % format::kFrameAlignment != 0) {
      corrupt("consumer slot " + std::to_string(index) + ": cursor " + std::to_string(cursor) +
              " is not 8-byte aligned");
    }
    if (std::memchr(slot.name, '\0', sizeof slot.name) == nullptr) {
      corrupt("consumer slot " + std::to_string(index) + ": name is not terminated");
    }
  }
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    const auto& slot = header_->producers[index];
    const auto state = load_field(slot.state, std::memory_order_acquire);
    if (state > static_cast<std::uint32_t>(format::ProducerState::active)) {
      corrupt("producer slot " + std::to_string(index) + ": unknown state " + std::to_string(state));
    }
  }
  const std::uint64_t head = load_field(header_->head_position.value, std::memory_order_acquire);
  if (head % format::kFrameAlignment != 0) {
    corrupt("head position " + std::to_string(head) + " is not 8-byte aligned");
  }
  if (!format::plausible_position(head)) corrupt("head position " + std::to_string(head) + " is absurd");
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
