// Creating a ring file: the options checked, every block reserved, the header written in a file
// without a name (or under a temporary one) and linked into place when whole, so that no process
// ever opens a half-written one.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "clock.hpp"
#include "memory_budget.hpp"
#include "paging.hpp"
#include "ring_file.hpp"
#include "ring_file_parts.hpp"
#include "ring_registry.hpp"
#include "ringfile/error.hpp"

namespace ringfile::detail {
namespace {

using format::FileHeader;
using format::FileIdentity;

// The ring's file while it is built. Without a name (O_TMPFILE) where the filesystem allows: a
// process killed meanwhile (reserving hundreds of GiB takes a while) leaves nothing behind, where
// a temporary name would stay with every block reserved. Elsewhere under PATH.creating.PID,
// removed at the end, or by the next create once that process is gone.
class FileUnderConstruction {
 public:
  FileUnderConstruction(const std::filesystem::path& path, mode_t mode)
      : path_(path), directory_(path.has_parent_path() ? path.parent_path() : ".") {
    file_.fd = ::open(directory_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, mode);
    if (file_.fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return;
    temporary_ = path.string() + std::string(kTemporarySuffix) + std::to_string(::getpid());
    remove_dead_creators_files();
    file_.fd = ::open(temporary_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  }
  ~FileUnderConstruction() {
    if (!temporary_.empty() && file_.fd >= 0) ::unlink(temporary_.c_str());
  }
  FileUnderConstruction(const FileUnderConstruction&) = delete;
  FileUnderConstruction& operator=(const FileUnderConstruction&) = delete;

  int fd() const noexcept { return file_.fd; }
  // Where the ring goes: the path's directory, or the working directory.
  const std::filesystem::path& directory() const noexcept { return directory_; }

  // Gives the file its name; errno as link(2) sets it on failure (EEXIST: a file is there).
  bool link_into_place() const noexcept {
    if (!temporary_.empty()) return ::link(temporary_.c_str(), path_.c_str()) == 0;
    // AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH on older kernels; the /proc form needs /proc.
    if (::linkat(file_.fd, "", AT_FDCWD, path_.c_str(), AT_EMPTY_PATH) == 0) return true;
    if (errno != ENOENT && errno != EPERM) return false;
    const std::string self = "/proc/self/fd/" + std::to_string(file_.fd);
    return ::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, path_.c_str(), AT_SYMLINK_FOLLOW) == 0;
  }

 private:
  static constexpr std::string_view kTemporarySuffix = ".creating.";

  // PATH.creating.PID files whose creator no longer runs: left by a kill during a create.
  void remove_dead_creators_files() const noexcept {
    std::error_code error;
    const std::string prefix = path_.filename().string() + std::string(kTemporarySuffix);
    for (const auto& entry : std::filesystem::directory_iterator(directory_, error)) {
      const std::string name = entry.path().filename().string();
      if (!name.starts_with(prefix)) continue;
      const std::string pid_text = name.substr(prefix.size());
      if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos || pid_text.size() > 9) {
        continue;
      }
      const pid_t creator = static_cast<pid_t>(std::stol(pid_text));
      if (::kill(creator, 0) != 0 && errno == ESRCH) ::unlink(entry.path().c_str());
    }
  }

  std::filesystem::path path_;
  std::filesystem::path directory_;
  std::filesystem::path temporary_;  // empty for a file without a name
  FileDescriptor file_;
};

[[noreturn]] void throw_exists(const std::filesystem::path& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw Error(ErrorCode::exists, describe(path) + ": a directory is there; name a file in it for the ring");
  }
  throw Error(ErrorCode::exists,
              describe(path) + ": a file already exists there; remove it or open it instead of creating");
}

void validate_create_options(const std::filesystem::path& path, const CreateOptions& options) {
  const auto fail = [&](const std::string& what) {
    throw Error(ErrorCode::invalid_argument, describe(path) + ": " + what);
  };
  // It failed as "no such file; create the ring first" (found by a tester).
  if (path.empty()) throw Error(ErrorCode::invalid_argument, "an empty path; name the file for the ring");
  if (options.capacity_bytes < kMinCapacity) {
    // 4095 bytes is "4.0 KiB" rounded, which reads as a multiple of 4 KiB (found by a tester).
    fail("capacity " + byte_count(options.capacity_bytes) + " is below the minimum of " +
         human_bytes(kMinCapacity));
  }
  if (options.capacity_bytes > kMaxCapacity) fail("capacity above 1 PiB is not supported");
  if (options.capacity_bytes % format::kPageBytes != 0) {
    fail("capacity must be a multiple of 4096 bytes (got " +
         std::to_string(options.capacity_bytes) + ")");
  }
  if (options.max_record_bytes > format::kMostRecordBytes) {
    fail("maximum record size " + human_bytes_beside(options.max_record_bytes, format::kMostRecordBytes) +
         " is above the largest the format takes (" +
         human_bytes_beside(format::kMostRecordBytes, options.max_record_bytes) +
         "); lower max_record_bytes (--max-record)");
  }
  const std::uint64_t stride = format::frame_stride(format::kRecordHeaderBytes + options.max_record_bytes);
  if (stride > options.capacity_bytes / 2) {
    fail("maximum record size " + human_bytes(options.max_record_bytes) +
         " needs a capacity of at least " + human_bytes_beside(2 * stride, options.capacity_bytes) + " (got " +
         human_bytes_beside(options.capacity_bytes, 2 * stride) +
         "); lower max_record_bytes (--max-record) or raise capacity_bytes (--size)");
  }
  if (options.policy != WriterPolicy::block && options.policy != WriterPolicy::overwrite) {
    fail("unknown writer policy");
  }
  switch (options.paging) {
    case PagingStrategy::automatic:
    case PagingStrategy::zero_range:
    case PagingStrategy::punch_hole:
    case PagingStrategy::prefetch_only:
    case PagingStrategy::none:
      break;
    default:  // a value outside the enum was created as none (found by a tester)
      fail("unknown paging strategy " + std::to_string(static_cast<int>(options.paging)));
  }
  if (options.hold_window_bytes != 0 && options.hold_window_bytes < options.capacity_bytes &&
      options.hold_window_bytes < 2 * stride) {
    fail("hold window " + human_bytes_beside(options.hold_window_bytes, 2 * stride) +
         " is below two maximum-size records (" + human_bytes_beside(2 * stride, options.hold_window_bytes) +
         "); raise hold_window_bytes (--hold-window) or lower max_record_bytes (--max-record)");
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

  // A ring already there is refused before its blocks are reserved (the link at the end refuses
  // one made meanwhile).
  struct stat existing {};
  if (::lstat(path.c_str(), &existing) == 0) throw_exists(path);
  // Build the file apart and link it into place when complete, so that no process ever opens a
  // half-written header.
  occupy_closed_standard_descriptors();
  const FileUnderConstruction file(path, create_options.file_mode);
  if (file.fd() < 0 && (errno == ENOENT || errno == ENOTDIR)) {
    // Not the ring that is missing (we are creating it) but the directory it goes in.
    const std::filesystem::path& directory = file.directory();
    if (errno == ENOTDIR) {
      throw Error(ErrorCode::not_found, describe(path) + ": a part of '" + directory.string() +
                                            "' is a file, not a directory; choose a path in a directory");
    }
    struct stat directory_status {};
    if (::stat(directory.c_str(), &directory_status) == 0 && S_ISDIR(directory_status.st_mode)) {
      // There, but its file system makes no new files (procfs, sysfs answer ENOENT).
      throw Error(ErrorCode::permission_denied, describe(path) + ": no file can be created in '" +
                                                    directory.string() +
                                                    "' (its file system does not allow it); choose a path on "
                                                    "a disk or tmpfs");
    }
    throw Error(ErrorCode::not_found, describe(path) + ": the directory '" + directory.string() +
                                          "' does not exist; create it first (mkdir -p '" + directory.string() + "')");
  }
  if (file.fd() < 0 && (errno == EACCES || errno == EPERM)) {
    // The file is new: its owner and mode are not what is wrong, the directory's are.
    throw Error(ErrorCode::permission_denied, describe(path) + ": permission denied creating a file in '" +
                                                  file.directory().string() +
                                                  "'; check the directory's owner and mode, or choose a path "
                                                  "in a directory this user may write to");
  }
  if (file.fd() < 0) throw_errno(errno, path, "creating the ring file");
  ::fchmod(file.fd(), create_options.file_mode);  // the umask must not narrow what was asked

  // Reserve every block now: a sparse ring could meet ENOSPC at write-back and SIGBUS a producer.
  // The free space is read first: a reservation that fails takes what it got until the file is
  // unlinked (every other writer on the filesystem may meet ENOSPC meanwhile), and leaves
  // nothing free to report.
  const std::optional<FreeSpace> free_before = free_space(file.fd());
  const auto no_space = [&] {
    throw Error(ErrorCode::no_space, describe(path) + ": the ring needs " +
                                         (free_before ? human_bytes_beside(file_bytes, free_before->usable)
                                                      : human_bytes(file_bytes)) +
                                         " but the filesystem has " +
                                         describe_free_space(free_before, file_bytes) +
                                         " free; free space or choose a smaller capacity_bytes (--size)");
  };
  if (free_before && free_before->usable < file_bytes) no_space();
  int reserve_error = ::fallocate(file.fd(), 0, 0, static_cast<off_t>(file_bytes)) == 0 ? 0 : errno;
  if (reserve_error == EOPNOTSUPP) {
    reserve_error = ::posix_fallocate(file.fd(), 0, static_cast<off_t>(file_bytes));
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
  const PagingStrategy paging = resolve_paging_strategy(file.fd(), create_options.capacity_bytes, create_options.paging,
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
    const ssize_t result = ::pwrite(file.fd(), header_bytes.data() + written,
                                    header_bytes.size() - written, static_cast<off_t>(written));
    if (result < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, path, "writing the ring header");
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fdatasync(file.fd()) != 0) throw_errno(errno, path, "syncing the ring header");
  if (!file.link_into_place()) {
    if (errno == EEXIST) throw_exists(path);
    throw_errno(errno, path, "linking the new ring into place");
  }
  return open(path, open_options);
}

}  // namespace ringfile::detail
