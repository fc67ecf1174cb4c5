#include "ringfile/system/process_io.hpp"

#include <cinttypes>
#include <cstdio>

namespace ringfile::system {

std::optional<ProcessIo> own_process_io() noexcept {
  std::FILE* const io_file = std::fopen("/proc/self/io", "r");
  if (io_file == nullptr) return std::nullopt;
  ProcessIo io;
  int fields_found = 0;
  char line[128];
  while (std::fgets(line, sizeof(line), io_file) != nullptr) {
    // "read_bytes" and "write_bytes" are the device-level counters; "rchar"/"wchar" count bytes
    // passed through read()/write() whether or not they reached a disk.
    if (std::sscanf(line, "read_bytes: %" SCNu64, &io.read_bytes) == 1) ++fields_found;
    if (std::sscanf(line, "write_bytes: %" SCNu64, &io.write_bytes) == 1) ++fields_found;
  }
  std::fclose(io_file);
  if (fields_found != 2) return std::nullopt;
  return io;
}

}  // namespace ringfile::system
