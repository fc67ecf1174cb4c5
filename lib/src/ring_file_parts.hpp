// What opening and creating a ring file share (ring_file.cpp, ring_file_create.cpp): the writer
// policy's code in the file, the identity's checksum, the bounds of a capacity, and the errors
// at this edge, which name the file and say what to do.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ringfile/format/file_header.hpp"
#include "ringfile/options.hpp"

namespace ringfile::detail {

inline constexpr std::uint64_t kMinCapacity = 64 * kKiB;
inline constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 50;  // 1 PiB: far beyond any disk here

// The policy as the file stores it (format::WriterPolicyCode), and back; nullopt for a code no
// version of the format uses.
format::WriterPolicyCode policy_code(WriterPolicy policy) noexcept;
std::optional<WriterPolicy> policy_from_code(std::uint8_t code) noexcept;

std::string describe(const std::filesystem::path& path);
std::string human_bytes(std::uint64_t bytes);
// Exactly, in words: "1 byte", "4095 bytes".
std::string byte_count(std::uint64_t bytes);
// The space a ring's blocks may come from on the filesystem of `fd`.
struct FreeSpace {
  std::uint64_t usable = 0;      // all that is free for root (which the filesystem may grant its
                                 // reserved blocks), what is not reserved for anyone else
  std::uint64_t unreserved = 0;  // free and not reserved
};
std::optional<FreeSpace> free_space(int fd) noexcept;
// FreeSpace::usable as human_bytes_beside(…, other) shows it, and where some of it is reserved,
// how much is not (a refused reservation of root's may have been refused those); "unknown".
std::string describe_free_space(const std::optional<FreeSpace>& space, std::uint64_t other);
// human_bytes, or exactly ("1048536 bytes") where `other`, shown beside it for comparison,
// differs but rounds to the same text (the library's twin of programs::format_bytes_beside).
std::string human_bytes_beside(std::uint64_t bytes, std::uint64_t other);

// An Error for the system call that failed with `error` while `doing` something to the ring at
// `path`: permission_denied, not_found and no_space with what to do about them, else io_error.
[[noreturn]] void throw_errno(int error, const std::filesystem::path& path, const char* doing);

std::uint32_t identity_crc(const format::FileIdentity& identity);

// Closes the descriptor it holds unless released.
struct FileDescriptor {
  int fd = -1;
  FileDescriptor() = default;
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor();
  int release() noexcept;
};

// A process started with standard input, output or error closed gets the ring's descriptor in
// that place from the next open(), and whatever it then writes to stdout or stderr (its output,
// an error message, a library's) goes into the ring over the header. /dev/null takes any such
// place first, as if the process had been started with it there. Called before every open.
void occupy_closed_standard_descriptors() noexcept;

}  // namespace ringfile::detail
