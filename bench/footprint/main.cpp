// ringfile-bench-footprint: a producer process's mapped bytes and page tables after a full lap of
// rings of different sizes (issue 4, section 4: they must not grow with the ring). For each size
// a fresh process creates the ring, writes records until the head has gone round `--laps` times,
// and samples /proc/self/status (VmPTE, VmSize, VmRSS, RssFile) and /proc/self/smaps (the ring
// file's mappings) as it goes (size_run.cpp, memory_sample.cpp); the table is
// footprint_report.cpp. See bench/README.md.
#include <cstdio>
#include <optional>
#include <vector>

#include "footprint/footprint_report.hpp"
#include "footprint/size_run.hpp"
#include "ringfile/programs/command_line.hpp"
#include "support/byte_size.hpp"
#include "support/machine_info.hpp"

namespace {

using namespace ringfile::bench;
using namespace ringfile::bench::footprint;
namespace programs = ringfile::programs;

// nullopt: run; otherwise the exit code (0 after --help, 2 after a bad option).
std::optional<int> parse(int argc, char** argv, FootprintOptions& options) {
  CLI::App app(
      "For each ring size, a fresh producer process creates a ring and writes 625,000-byte\n"
      "records until the head has gone round --laps times, then reports its page tables\n"
      "(VmPTE) and the bytes it maps of the ring file. They should not depend on the size.",
      "ringfile-bench-footprint");
  programs::add_size_list_option(app, "--sizes", options.ring_sizes, "ring sizes, each measured in a fresh process")
      ->default_str("1G,64G");
  programs::add_size_option(app, "--record-size", options.record_bytes, "size of each record")->default_str("625000");
  programs::add_count_option(app, "--laps", options.laps, "laps to write before the final sample")->default_str("1");
  programs::add_size_option(app, "--view-size", options.view_bytes, "OpenOptions::view_bytes")->default_str("64M");
  app.add_option("--dir", options.directory, "where to create the ring (deleted after)")->capture_default_str();
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return exit_code;
  if (options.laps == 0) throw programs::UsageError("--laps must be at least 1");
  return std::nullopt;
}

int run(int argc, char** argv) {
  FootprintOptions options;
  if (const auto exit_code = parse(argc, argv, options)) return *exit_code;
  std::printf("ringfile-bench-footprint, %s, Linux %s, load average %s at start\n", utc_now_iso8601().c_str(),
              kernel_release().c_str(), load_averages().c_str());
  std::vector<SizeResult> results;
  for (const std::uint64_t size : options.ring_sizes) {
    std::fprintf(stderr, "ring of %s ...\n", format_byte_size(size).c_str());
    results.push_back(run_size(options, size));
  }
  return print_report(options, results);
}

}  // namespace

int main(int argc, char** argv) {
  return programs::run_guarded("ringfile-bench-footprint", [&] { return run(argc, argv); });
}
