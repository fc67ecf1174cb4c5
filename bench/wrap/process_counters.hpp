// Per-process counters that show whether a writer made the kernel read from disk.
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::bench::wrap {

struct ProcessDiskBytes {
  std::uint64_t read_bytes = 0;   // bytes this process caused to be read from the device
  std::uint64_t write_bytes = 0;  // bytes it dirtied for writing (counted when dirtied)
};

// From /proc/self/io (needs CONFIG_TASK_IO_ACCOUNTING). nullopt: not available.
std::optional<ProcessDiskBytes> own_disk_bytes() noexcept;

// Page faults that had to wait for I/O, from getrusage.
std::uint64_t own_major_faults() noexcept;

}  // namespace ringfile::bench::wrap
