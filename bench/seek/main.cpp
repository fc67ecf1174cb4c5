// ringfile-bench-seek: how long a consumer takes to start at a time (Seek::to_time) and at the
// N-th last record (Seek::last_records) in rings of growing size, against the baseline of the
// same run: reading from the oldest record until the first one committed at that time.
//
//   ringfile-bench-seek [--sizes 64M,512M,2G] [--record-size 64-1K] [--seeks 200] [--dir DIR]
//
// Each ring is filled one and a half laps (so the oldest records are a lap's worth of positions
// away from the newest) with records of random sizes, then searched while nothing writes; the
// ring stays in the page cache (paging none), so the figures are the search's own work, not the
// disk's. Prints one line per ring size and the load of the machine.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"
#include "support/machine_info.hpp"
#include "support/statistics.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using ringfile::Consumer;
using ringfile::Record;
using ringfile::Seek;

struct Options {
  std::vector<std::uint64_t> sizes{64 * ringfile::kMiB, 512 * ringfile::kMiB, 2 * ringfile::kGiB};
  ringfile::programs::SizeRange record_size{64, 1024};
  std::size_t seeks = 200;
  std::size_t baseline_seeks = 5;
  std::uint64_t last_records = 1000;
  std::filesystem::path dir = std::filesystem::temp_directory_path();
};

double microseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

std::chrono::system_clock::time_point at(std::uint64_t time_ns) {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(time_ns)));
}

// The commit time of the first and the last record a consumer reads from `seek`: the range of
// times still in the ring.
std::pair<std::uint64_t, std::uint64_t> time_range(const ringfile::Ring& ring) {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  Consumer oldest = Consumer::attach(ring, {.start = ringfile::StartFrom::earliest, .holds_back = false});
  oldest.poll([&](const Record& record) { first = record.timestamp_ns; }, 1);
  Consumer newest = Consumer::attach(ring, {.seek = Seek::last_records(1), .holds_back = false});
  newest.poll([&](const Record& record) { last = record.timestamp_ns; }, 1);
  return {first, last};
}

void run_size(const Options& options, std::uint64_t capacity) {
  const std::filesystem::path path = options.dir / ("ringfile-bench-seek-" + std::to_string(::getpid()) + ".ring");
  std::filesystem::remove(path);
  ringfile::CreateOptions create;
  create.capacity_bytes = capacity;
  create.policy = ringfile::WriterPolicy::overwrite;
  create.paging = ringfile::PagingStrategy::none;
  ringfile::Ring ring = ringfile::Ring::create(path, create);
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::uint64_t> sizes(options.record_size.min_bytes, options.record_size.max_bytes);
  std::uint64_t records = 0;
  {
    ringfile::Producer producer(ring);
    while (ring.head_position() < capacity + capacity / 2) {
      const ringfile::ClaimResult claim = producer.claim(sizes(random), std::chrono::seconds(10));
      if (!claim) throw std::runtime_error("claim failed");
      std::fill(claim.buffer.begin(), claim.buffer.begin() + std::min<std::size_t>(8, claim.buffer.size()), std::byte{1});
      producer.commit();
      ++records;
    }
  }
  const auto [first, last] = time_range(ring);
  std::uniform_int_distribution<std::uint64_t> times(first, last);

  std::vector<std::uint64_t> seek_ns;
  for (std::size_t index = 0; index < options.seeks; ++index) {
    const auto start = Clock::now();
    Consumer consumer = Consumer::attach(ring, {.seek = Seek::to_time(at(times(random))), .holds_back = false});
    seek_ns.push_back(static_cast<std::uint64_t>(microseconds_since(start) * 1000));
  }
  std::vector<std::uint64_t> last_ns;
  for (std::size_t index = 0; index < options.seeks; ++index) {
    const auto start = Clock::now();
    Consumer consumer = Consumer::attach(ring, {.seek = Seek::last_records(options.last_records), .holds_back = false});
    last_ns.push_back(static_cast<std::uint64_t>(microseconds_since(start) * 1000));
  }
  // The baseline: from the oldest record, read until the first one committed at the time.
  std::vector<double> scan_us;
  for (std::size_t index = 0; index < options.baseline_seeks; ++index) {
    const std::uint64_t target = times(random);
    const auto start = Clock::now();
    Consumer consumer = Consumer::attach(ring, {.start = ringfile::StartFrom::earliest, .holds_back = false});
    bool found = false;
    while (!found) {
      const ringfile::PollResult polled = consumer.poll([&](const Record& record) {
        if (record.timestamp_ns < target) return true;
        found = true;
        return false;
      });
      if (polled.records == 0 && !found) break;
    }
    scan_us.push_back(microseconds_since(start));
  }
  const auto seek = ringfile::bench::latency_percentiles(seek_ns);
  const auto last_seek = ringfile::bench::latency_percentiles(last_ns);
  const double scan = ringfile::bench::median(scan_us);
  std::printf("%10s %12llu %13.1f %13.1f %17.1f %13.1f %16.0f %9.0fx\n",
              ringfile::programs::format_bytes(static_cast<double>(capacity)).c_str(),
              static_cast<unsigned long long>(records), seek.p50_ns / 1000, seek.p99_ns / 1000,
              last_seek.p50_ns / 1000, last_seek.p99_ns / 1000, scan, ringfile::bench::ratio(scan, seek.p50_ns / 1000));
  std::fflush(stdout);
  std::filesystem::remove(path);
}

int run(int argc, char** argv) {
  Options options;
  CLI::App app{"Seek by time and by count in rings of growing size, against a linear scan.", "ringfile-bench-seek"};
  ringfile::programs::add_size_list_option(app, "--sizes", options.sizes, "Ring capacities")->default_str("64M,512M,2G");
  std::string record_size = "64-1K";
  app.add_option("--record-size", record_size, "Record payload sizes, a range")->capture_default_str();
  app.add_option("--seeks", options.seeks, "Seeks of each kind per ring")->capture_default_str();
  app.add_option("--last", options.last_records, "N of the N-th last record")->capture_default_str();
  app.add_option("--dir", options.dir, "Where the rings go (default the temporary directory)");
  if (const auto exit_code = ringfile::programs::parse_command_line(app, argc, argv)) return *exit_code;
  const auto range = ringfile::programs::parse_size_range(record_size);
  if (!range) throw ringfile::programs::UsageError("--record-size: '" + record_size + "' is not a size range (e.g. 64-1K)");
  options.record_size = *range;
  ringfile::bench::RunMachine machine = ringfile::bench::RunMachine::at_start();
  std::printf("ringfile-bench-seek: %s, kernel %s, %d CPUs, load %s\n", machine.started_at_utc.c_str(),
              machine.kernel_release.c_str(), machine.online_cpus, machine.load_at_start.c_str());
  std::printf("%10s %12s %13s %13s %17s %13s %16s %10s\n", "ring", "records", "time p50 us", "time p99 us",
              "last-1000 p50 us", "p99 us", "scan median us", "scan/time");
  for (const std::uint64_t size : options.sizes) run_size(options, size);
  machine.finish();
  std::printf("load at the end %s\n", machine.load_at_end.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bench-seek", [&] { return run(argc, argv); });
}
