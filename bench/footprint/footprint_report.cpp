#include "footprint/footprint_report.hpp"

#include <cinttypes>
#include <cstdio>
#include <string>

#include "support/byte_size.hpp"

namespace ringfile::bench::footprint {

namespace {

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

}  // namespace

int print_report(const FootprintOptions& options, const std::vector<SizeResult>& results) {
  std::printf("producer process after %" PRIu64 " lap(s); records %" PRIu64 " B; ring in %s\n\n", options.laps,
              options.record_bytes, options.directory.c_str());
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

}  // namespace ringfile::bench::footprint
