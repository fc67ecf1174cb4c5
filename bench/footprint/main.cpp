// ringfile-bench-footprint: a producer process's mapped bytes and page tables after a full lap of
// rings of different sizes (issue 4, section 4: they must not grow with the ring). For each size
// a fresh process creates the ring, writes records until the head has gone round `--laps` times,
// and samples /proc/self/status (VmPTE, VmSize, VmRSS, RssFile) and /proc/self/smaps (the ring
// file's mappings) as it goes. See bench/README.md.
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <string>
#include <vector>

#include <ringfile/error.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/ring.hpp>

#include "support/byte_size.hpp"
#include "support/clock.hpp"
#include "support/machine_info.hpp"
#include "support/option_parser.hpp"
#include "support/setup_error.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ringfile::bench;

struct FootprintOptions {
  std::vector<std::uint64_t> ring_sizes{1ull << 30, 64ull << 30};
  std::uint64_t record_bytes = 625'000;
  std::uint64_t laps = 1;
  std::uint64_t view_bytes = 64ull << 20;  // the library's default OpenOptions::view_bytes
  std::string directory = "/tmp";
};

// What one process reports about itself; sizes in bytes.
struct MemorySample {
  std::uint64_t page_table_bytes = 0;   // VmPTE
  std::uint64_t virtual_bytes = 0;      // VmSize
  std::uint64_t resident_bytes = 0;     // VmRSS
  std::uint64_t resident_file_bytes = 0;  // RssFile
  std::uint64_t ring_mapped_bytes = 0;    // smaps Size of the ring file's mappings
  std::uint64_t ring_mapped_resident_bytes = 0;  // smaps Rss of them
  std::uint64_t ring_mappings = 0;
};

// Written by the child that measured one size, read by the parent after waitpid.
struct SizeResult {
  std::uint64_t ring_bytes = 0;
  std::uint64_t view_bytes = 0;
  char paging[16] = {};
  MemorySample before;  // after creating the producer, before the first record
  MemorySample after;   // when the head has gone round --laps times
  MemorySample peak;    // highest of each field over the samples taken while writing
  std::uint64_t samples = 0;
  std::uint64_t payload_bytes = 0;
  double seconds = 0;
  std::uint64_t disk_read_bytes = 0;
  std::uint64_t ring_resident_bytes = 0;  // the ring file's page cache at the end
  char error[256] = {};
};

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
  peak.ring_mapped_resident_bytes =
      std::max(peak.ring_mapped_resident_bytes, sample.ring_mapped_resident_bytes);
  peak.ring_mappings = std::max(peak.ring_mappings, sample.ring_mappings);
}

std::uint64_t own_disk_read_bytes() {
  const std::string io = read_small_file("/proc/self/io");
  const char* found = std::strstr(io.c_str(), "\nread_bytes:");
  std::uint64_t bytes = 0;
  if (found != nullptr) std::sscanf(found + std::strlen("\nread_bytes:"), " %" SCNu64, &bytes);
  return bytes;
}

const char* paging_name(ringfile::PagingStrategy strategy) {
  switch (strategy) {
    case ringfile::PagingStrategy::automatic: return "automatic";
    case ringfile::PagingStrategy::zero_range: return "zero_range";
    case ringfile::PagingStrategy::punch_hole: return "punch_hole";
    case ringfile::PagingStrategy::prefetch_only: return "prefetch_only";
    case ringfile::PagingStrategy::none: return "none";
  }
  return "?";
}

// The body of the child that measures one ring size.
void measure(const FootprintOptions& options, std::uint64_t ring_bytes, const fs::path& ring_path,
             SizeResult& result) {
  result.ring_bytes = ring_bytes;
  ringfile::CreateOptions create;
  create.capacity_bytes = ring_bytes;
  create.policy = ringfile::WriterPolicy::overwrite;  // no consumer: never wait
  create.max_record_bytes = static_cast<std::uint32_t>(options.record_bytes);
  ringfile::OpenOptions open;
  open.view_bytes = options.view_bytes;
  const ringfile::Ring ring = ringfile::Ring::create(ring_path, create, open);
  result.view_bytes = ring.info().view_bytes;
  std::snprintf(result.paging, sizeof(result.paging), "%s", paging_name(ring.info().paging));
  ringfile::Producer producer(ring);
  std::vector<std::byte> record(options.record_bytes);
  for (std::size_t index = 0; index < record.size(); ++index) {
    record[index] = static_cast<std::byte>((index * 131 + 17) & 0xff);
  }
  const std::string path_text = ring_path.string();
  result.before = sample_memory(path_text);
  result.peak = result.before;
  // About every 256 MiB: enough samples to see growth, few enough to cost nothing.
  const std::uint64_t sample_every = std::max<std::uint64_t>(1, (256ull << 20) / options.record_bytes);
  const std::uint64_t disk_before = own_disk_read_bytes();
  const std::uint64_t start_head = ring.head_position();
  const std::uint64_t target = start_head + options.laps * ring_bytes;
  const std::uint64_t start_ns = monotonic_ns();
  for (std::uint64_t sequence = 0; ring.head_position() < target; ++sequence) {
    std::memcpy(record.data(), &sequence, sizeof(sequence));
    const ringfile::ClaimResult claim = producer.claim(record.size(), std::chrono::seconds(10));
    if (!claim) throw SetupError(std::string("claim failed: ") + ringfile::to_string(claim.status));
    std::memcpy(claim.buffer.data(), record.data(), record.size());
    const ringfile::ClaimStatus committed = producer.commit();
    if (committed != ringfile::ClaimStatus::ok) {
      throw SetupError(std::string("commit failed: ") + ringfile::to_string(committed));
    }
    result.payload_bytes += record.size();
    if (sequence % sample_every == 0) {
      keep_peak(result.peak, sample_memory(path_text));
      ++result.samples;
    }
  }
  result.seconds = seconds_between(start_ns, monotonic_ns());
  result.after = sample_memory(path_text);
  keep_peak(result.peak, result.after);
  result.disk_read_bytes = own_disk_read_bytes() - disk_before;
  result.ring_resident_bytes = ring.residency().resident_bytes;
}

void check_free_space(const fs::path& directory, std::uint64_t needed) {
  struct statvfs filesystem {};
  if (::statvfs(directory.c_str(), &filesystem) != 0) {
    throw SetupError(describe_errno("cannot stat " + directory.string(), errno));
  }
  const std::uint64_t free_bytes =
      static_cast<std::uint64_t>(filesystem.f_bavail) * filesystem.f_frsize;
  if (needed > free_bytes) {
    throw SetupError("a ring of " + format_byte_size(needed) + " does not fit in " +
                     directory.string() + " (" + std::to_string(free_bytes / (1ull << 30)) +
                     " GiB free); use smaller --sizes or --dir elsewhere");
  }
}

// Forks a child for one size (a fresh process, so nothing of the previous size is mapped).
SizeResult run_size(const FootprintOptions& options, std::uint64_t ring_bytes) {
  const fs::path ring_path = fs::path(options.directory) /
                             ("ringfile-bench-footprint-" + std::to_string(::getpid()) + ".ring");
  check_free_space(options.directory, ring_bytes + (1ull << 20));
  void* const memory = ::mmap(nullptr, sizeof(SizeResult), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw SetupError(describe_errno("cannot map shared memory", errno));
  auto* const shared = new (memory) SizeResult{};
  const pid_t child = ::fork();
  if (child < 0) throw SetupError(describe_errno("fork", errno));
  if (child == 0) {
    try {
      measure(options, ring_bytes, ring_path, *shared);
    } catch (const std::exception& failure) {
      std::snprintf(shared->error, sizeof(shared->error), "%s", failure.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  SizeResult result = *shared;
  ::munmap(memory, sizeof(SizeResult));
  std::error_code ignored;
  fs::remove(ring_path, ignored);
  if (result.error[0] == '\0' && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::snprintf(result.error, sizeof(result.error), "measuring process failed (status %d)",
                  status);
  }
  return result;
}

std::string kib(std::uint64_t bytes) { return std::to_string(bytes / 1024) + " kB"; }
std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / kBytesPerMiB);
  return text;
}

void print_row(const char* label, const std::vector<std::string>& cells) {
  std::printf("  %-34s", label);
  for (const std::string& cell : cells) std::printf(" %22s", cell.c_str());
  std::printf("\n");
}

int run(int argc, char** argv) {
  FootprintOptions options;
  OptionParser parser(
      "ringfile-bench-footprint",
      "For each ring size, a fresh producer process creates a ring and writes 625,000-byte\n"
      "records until the head has gone round --laps times, then reports its page tables\n"
      "(VmPTE) and the bytes it maps of the ring file. They should not depend on the size.");
  std::vector<std::string> size_texts{"1G", "64G"};
  parser.add_list("--sizes", &size_texts, "ring sizes, each measured in a fresh process");
  parser.add_byte_size("--record-size", &options.record_bytes, "size of each record");
  parser.add_count("--laps", &options.laps, "laps to write before the final sample");
  parser.add_byte_size("--view-size", &options.view_bytes, "OpenOptions::view_bytes");
  parser.add_text("--dir", &options.directory, "where to create the ring (deleted after)");
  if (!parser.parse(argc, argv)) return 0;
  options.ring_sizes.clear();
  for (const std::string& text : size_texts) {
    const auto size = parse_byte_size(text);
    if (!size) throw SetupError("--sizes: cannot use '" + text + "'");
    options.ring_sizes.push_back(*size);
  }
  if (options.laps == 0) throw SetupError("--laps must be at least 1");

  std::printf("ringfile-bench-footprint, %s, Linux %s, load average %s at start\n",
              utc_now_iso8601().c_str(), kernel_release().c_str(), load_averages().c_str());
  std::vector<SizeResult> results;
  for (const std::uint64_t size : options.ring_sizes) {
    std::fprintf(stderr, "ring of %s ...\n", format_byte_size(size).c_str());
    results.push_back(run_size(options, size));
  }
  std::printf("producer process after %" PRIu64 " lap(s); records %" PRIu64 " B; ring in %s\n\n",
              options.laps, options.record_bytes, options.directory.c_str());
  std::vector<std::string> header;
  for (const SizeResult& result : results) header.push_back(format_byte_size(result.ring_bytes));
  print_row("ring", header);
  const auto row = [&](const char* label, auto cell) {
    std::vector<std::string> cells;
    for (const SizeResult& result : results) cells.push_back(cell(result));
    print_row(label, cells);
  };
  row("paging / view", [](const SizeResult& r) {
    return std::string(r.paging) + " / " + format_byte_size(r.view_bytes);
  });
  row("VmPTE before / after lap", [](const SizeResult& r) {
    return kib(r.before.page_table_bytes) + " / " + kib(r.after.page_table_bytes);
  });
  row("VmPTE peak while writing", [](const SizeResult& r) { return kib(r.peak.page_table_bytes); });
  row("ring mapped bytes after lap", [](const SizeResult& r) { return mib(r.after.ring_mapped_bytes); });
  row("ring mapped bytes peak", [](const SizeResult& r) { return mib(r.peak.ring_mapped_bytes); });
  row("ring mappings after / peak", [](const SizeResult& r) {
    return std::to_string(r.after.ring_mappings) + " / " + std::to_string(r.peak.ring_mappings);
  });
  row("ring mapped resident after", [](const SizeResult& r) {
    return mib(r.after.ring_mapped_resident_bytes);
  });
  row("VmSize after / peak", [](const SizeResult& r) {
    return mib(r.after.virtual_bytes) + " / " + mib(r.peak.virtual_bytes);
  });
  row("VmRSS after / peak", [](const SizeResult& r) {
    return mib(r.after.resident_bytes) + " / " + mib(r.peak.resident_bytes);
  });
  row("RssFile after", [](const SizeResult& r) { return mib(r.after.resident_file_bytes); });
  row("ring page cache after", [](const SizeResult& r) { return mib(r.ring_resident_bytes); });
  row("samples", [](const SizeResult& r) { return std::to_string(r.samples + 1); });
  row("GB/s (records)", [](const SizeResult& r) {
    char text[32];
    std::snprintf(text, sizeof(text), "%.3f",
                  r.seconds > 0 ? static_cast<double>(r.payload_bytes) / kBytesPerGB / r.seconds : 0);
    return std::string(text);
  });
  row("disk read during the lap", [](const SizeResult& r) { return mib(r.disk_read_bytes); });
  int exit_code = 0;
  for (const SizeResult& result : results) {
    if (result.error[0] != '\0') {
      std::printf("%s FAILED: %s\n", format_byte_size(result.ring_bytes).c_str(), result.error);
      exit_code = 1;
    }
  }
  std::printf("\nVmPTE: the process's page tables; mapped bytes: the Size of its mappings of the ring "
              "file in /proc/self/smaps (header and data views).\n");
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& failure) {
    std::fprintf(stderr, "ringfile-bench-footprint: %s\n", failure.what());
    return 1;
  }
}
