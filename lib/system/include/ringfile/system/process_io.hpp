// What this process made the kernel read from and write to storage, from /proc/self/io.
#pragma once

#include <cstdint>
#include <optional>

namespace ringfile::system {

struct ProcessIo {
  std::uint64_t read_bytes = 0;   // bytes this process caused to be read from a device
  std::uint64_t write_bytes = 0;  // bytes it dirtied for writing (counted when dirtied)
};

// nullopt where the kernel does not keep the counters (CONFIG_TASK_IO_ACCOUNTING).
std::optional<ProcessIo> own_process_io() noexcept;

}  // namespace ringfile::system
