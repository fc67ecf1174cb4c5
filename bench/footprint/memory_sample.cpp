#include "footprint/memory_sample.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>

namespace ringfile::bench::footprint {

namespace {

std::uint64_t status_field_bytes(const char* text, const char* name) {
  const char* found = std::strstr(text, name);
  if (found == nullptr) return 0;
  std::uint64_t kibibytes = 0;
  std::sscanf(found + std::strlen(name), " %" SCNu64, &kibibytes);
  return kibibytes * 1024;
}

std::string read_small_file(const char* path) {
  std::string text;
  if (std::FILE* file = std::fopen(path, "r")) {
    char buffer[4096];
    std::size_t got = 0;
    while ((got = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, got);
    std::fclose(file);
  }
  return text;
}

}  // namespace

MemorySample sample_memory(const std::string& ring_path) {
  MemorySample sample;
  const std::string status = read_small_file("/proc/self/status");
  sample.page_table_bytes = status_field_bytes(status.c_str(), "VmPTE:");
  sample.virtual_bytes = status_field_bytes(status.c_str(), "VmSize:");
  sample.resident_bytes = status_field_bytes(status.c_str(), "VmRSS:");
  sample.resident_file_bytes = status_field_bytes(status.c_str(), "RssFile:");
  // smaps: a header line per mapping ("start-end perms offset dev inode path"), then its fields.
  std::FILE* smaps = std::fopen("/proc/self/smaps", "r");
  if (smaps == nullptr) return sample;
  char line[4096];
  bool in_ring = false;
  unsigned long mapping_start = 0;
  unsigned long mapping_end = 0;
  char permissions[8] = {};
  while (std::fgets(line, sizeof(line), smaps) != nullptr) {
    std::uint64_t kibibytes = 0;
    if (std::sscanf(line, "Size: %" SCNu64, &kibibytes) == 1) {
      if (in_ring) sample.ring_mapped_bytes += kibibytes * 1024;
    } else if (std::sscanf(line, "Rss: %" SCNu64, &kibibytes) == 1) {
      if (in_ring) sample.ring_mapped_resident_bytes += kibibytes * 1024;
    } else if (std::sscanf(line, "%lx-%lx %7s", &mapping_start, &mapping_end, permissions) == 3) {
      const char* path = std::strchr(line, '/');
      std::string mapped = path != nullptr ? std::string(path) : std::string();
      if (!mapped.empty() && mapped.back() == '\n') mapped.pop_back();
      in_ring = mapped == ring_path;
      if (in_ring) ++sample.ring_mappings;
    }
  }
  std::fclose(smaps);
  return sample;
}

void keep_peak(MemorySample& peak, const MemorySample& sample) {
  peak.page_table_bytes = std::max(peak.page_table_bytes, sample.page_table_bytes);
  peak.virtual_bytes = std::max(peak.virtual_bytes, sample.virtual_bytes);
  peak.resident_bytes = std::max(peak.resident_bytes, sample.resident_bytes);
  peak.resident_file_bytes = std::max(peak.resident_file_bytes, sample.resident_file_bytes);
  peak.ring_mapped_bytes = std::max(peak.ring_mapped_bytes, sample.ring_mapped_bytes);
  peak.ring_mapped_resident_bytes = std::max(peak.ring_mapped_resident_bytes, sample.ring_mapped_resident_bytes);
  peak.ring_mappings = std::max(peak.ring_mappings, sample.ring_mappings);
}

}  // namespace ringfile::bench::footprint
