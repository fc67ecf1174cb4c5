// What a process reports about its own memory: page tables and mapped bytes from
// /proc/self/status, and its mappings of one file from /proc/self/smaps.
#pragma once

#include <cstdint>
#include <string>

namespace ringfile::bench::footprint {

// Sizes in bytes.
struct MemorySample {
  std::uint64_t page_table_bytes = 0;            // VmPTE
  std::uint64_t virtual_bytes = 0;               // VmSize
  std::uint64_t resident_bytes = 0;              // VmRSS
  std::uint64_t resident_file_bytes = 0;         // RssFile
  std::uint64_t ring_mapped_bytes = 0;           // smaps Size of the ring file's mappings
  std::uint64_t ring_mapped_resident_bytes = 0;  // smaps Rss of them
  std::uint64_t ring_mappings = 0;
};

// This process now; `ring_path` names the file whose mappings are counted.
MemorySample sample_memory(const std::string& ring_path);

// Raises each field of `peak` to the sample's where it is higher.
void keep_peak(MemorySample& peak, const MemorySample& sample);

}  // namespace ringfile::bench::footprint
