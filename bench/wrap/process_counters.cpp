#include "wrap/process_counters.hpp"

#include <sys/resource.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace ringfile::bench::wrap {

std::optional<ProcessDiskBytes> own_disk_bytes() noexcept {
  std::FILE* const io_file = std::fopen("/proc/self/io", "r");
  if (io_file == nullptr) return std::nullopt;
  ProcessDiskBytes bytes;
  int fields_found = 0;
  char line[128];
  while (std::fgets(line, sizeof(line), io_file) != nullptr) {
    // "read_bytes" and "write_bytes" are the device-level counters; "rchar"/"wchar" count
    // bytes passed through read()/write() whether or not they reached the disk.
    if (std::sscanf(line, "read_bytes: %" SCNu64, &bytes.read_bytes) == 1) ++fields_found;
    if (std::sscanf(line, "write_bytes: %" SCNu64, &bytes.write_bytes) == 1) ++fields_found;
  }
  std::fclose(io_file);
  if (fields_found != 2) return std::nullopt;
  return bytes;
}

std::uint64_t own_major_faults() noexcept {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  return static_cast<std::uint64_t>(usage.ru_majflt);
}

}  // namespace ringfile::bench::wrap
