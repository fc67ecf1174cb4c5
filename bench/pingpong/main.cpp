// ringfile-bench-pingpong: one record to an echo process and back, through each mode, timed per
// round trip; reports round trip / 2 percentiles and ratios against the baselines of the same
// run. See bench/README.md.
#include <algorithm>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "pingpong/pingpong.hpp"
#include "ringfile/programs/command_line.hpp"
#include "support/cpu_pinning.hpp"
#include "support/machine_info.hpp"
#include "support/named_entries.hpp"
#include "support/roudi_process.hpp"
#include "support/statistics.hpp"

namespace {

using namespace ringfile::bench;
using namespace ringfile::bench::pingpong;
namespace programs = ringfile::programs;

struct Options {
  PingPongConfig config;
  std::vector<std::string> modes;  // empty: all, in registration order
  std::uint64_t repeat = 1;
  bool quick = false;
};

std::string known_modes() { return names_of(pingpong::modes()); }

// nullopt: run; otherwise the exit code (0 after --help, 2 after a bad option).
std::optional<int> parse(int argc, char** argv, Options& options) {
  CLI::App app("Sends one record at a time to an echo process pinned to another CPU and\n"
               "waits for it to come back, through each mode; reports round trip / 2\n"
               "(p50, p90, p99, p99.9, max over every sample, medians over --repeat\n"
               "passes) with ratios against the baselines of the same run.\nModes: " +
                   known_modes(),
               "ringfile-bench-pingpong");
  std::uint64_t record_bytes = options.config.record_bytes;
  programs::add_size_option(app, "--size", record_bytes, "record bytes (at least 8: the sequence number)")
      ->default_str("64");
  const CLI::Option* samples =
      programs::add_count_option(app, "--samples", options.config.samples, "timed round trips per pass")
          ->default_str(std::to_string(options.config.samples));
  const CLI::Option* warmup =
      programs::add_count_option(app, "--warmup", options.config.warmup, "untimed round trips first")
          ->default_str(std::to_string(options.config.warmup));
  app.add_option("--modes", options.modes, "modes to run, in this order (default: all)")->delimiter(',');
  app.add_option("--initiator-cpu", options.config.initiator_cpu, "CPU of the timing side")->capture_default_str();
  app.add_option("--echo-cpu", options.config.echo_cpu, "CPU of the echo process")->capture_default_str();
  programs::add_count_option(app, "--repeat", options.repeat, "passes per mode (medians quoted)")->default_str("1");
  app.add_flag("--quick", options.quick, "smoke test: 20000 samples, 1000 warm-up");
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return exit_code;
  if (options.quick) {
    if (samples->count() == 0) options.config.samples = 20'000;
    if (warmup->count() == 0) options.config.warmup = 1'000;
  }
  options.config.record_bytes = record_bytes;
  if (record_bytes < 8 || record_bytes > (1u << 20)) throw programs::UsageError("--size must be 8..1M");
  if (options.config.samples == 0) throw programs::UsageError("--samples must be at least 1");
  if (options.repeat == 0) throw programs::UsageError("--repeat must be at least 1");
  if (options.modes.empty()) {
    for (const PingPongMode& mode : pingpong::modes()) options.modes.emplace_back(mode.name);
    if (const char* why = iceoryx_unavailable()) std::fprintf(stderr, "iceoryx_spin skipped: %s\n", why);
  }
  for (const std::string& name : options.modes) {
    if (name == "iceoryx_spin" && iceoryx_unavailable() != nullptr) {
      throw programs::UsageError(std::string("no iceoryx_spin mode here: ") + iceoryx_unavailable());
    }
    if (find_mode(name) == nullptr) {
      throw programs::UsageError("unknown mode '" + name + "' (known: " + known_modes() + ")");
    }
  }
  const int cpus = online_cpu_count();
  const auto cpu_ok = [cpus](int cpu) { return cpu >= 0 && cpu < cpus; };
  if (!cpu_ok(options.config.initiator_cpu) || !cpu_ok(options.config.echo_cpu)) {
    throw programs::UsageError("--initiator-cpu and --echo-cpu must be 0.." + std::to_string(cpus - 1));
  }
  return std::nullopt;
}

constexpr int kPercentiles = 5;
constexpr const char* kPercentileNames[kPercentiles] = {"p50", "p90", "p99", "p99.9", "max"};

struct Pass {
  std::string error;
  double ns[kPercentiles] = {};
};

// Nearest rank over every sample (sorted in place).
Pass summarise(PingPongResult result) {
  Pass pass;
  pass.error = result.error;
  std::vector<std::uint64_t>& samples = result.one_way_ns;
  if (samples.empty()) {
    if (pass.error.empty()) pass.error = "no samples";
    return pass;
  }
  std::sort(samples.begin(), samples.end());
  constexpr double kRanks[kPercentiles - 1] = {0.50, 0.90, 0.99, 0.999};
  for (int index = 0; index < kPercentiles - 1; ++index) {
    const auto rank = static_cast<std::size_t>(kRanks[index] * static_cast<double>(samples.size()));
    pass.ns[index] = static_cast<double>(samples[std::min(rank, samples.size() - 1)]);
  }
  pass.ns[kPercentiles - 1] = static_cast<double>(samples.back());
  return pass;
}

struct ModeRuns {
  std::string mode;
  std::vector<Pass> passes;
  double median_ns[kPercentiles] = {};

  void take_medians() {
    for (int index = 0; index < kPercentiles; ++index) {
      std::vector<double> values;
      for (const Pass& pass : passes) {
        if (pass.error.empty()) values.push_back(pass.ns[index]);
      }
      median_ns[index] = median(values);
    }
  }
};

const ModeRuns* find_runs(const std::vector<ModeRuns>& all, std::string_view mode) {
  for (const ModeRuns& runs : all) {
    if (runs.mode == mode) return &runs;
  }
  return nullptr;
}

void print_report(const Options& options, const RunMachine& machine,
                  const std::vector<ModeRuns>& all) {
  std::printf("ringfile-bench-pingpong, %s, Linux %s, %d CPUs; initiator on CPU %d, echo on CPU "
              "%d, %zu B records, %llu samples + %llu warm-up per pass, medians of %llu passes\n"
              "load average %s at start, %s at end\n\n",
              machine.started_at_utc.c_str(), machine.kernel_release.c_str(), machine.online_cpus,
              options.config.initiator_cpu, options.config.echo_cpu, options.config.record_bytes,
              static_cast<unsigned long long>(options.config.samples),
              static_cast<unsigned long long>(options.config.warmup),
              static_cast<unsigned long long>(options.repeat), machine.load_at_start.c_str(),
              machine.load_at_end.c_str());
  std::printf("one way = round trip / 2, in us\n%-18s", "mode");
  for (const char* name : kPercentileNames) std::printf(" %9s", name);
  std::printf(" %12s %12s %12s %12s\n", "p50/slot", "p99/slot", "p50/futex", "p50/iceoryx");
  const ModeRuns* const slot = find_runs(all, "slot_spin");
  const ModeRuns* const futex = find_runs(all, "futex");
  const ModeRuns* const iceoryx = find_runs(all, "iceoryx_spin");
  for (const ModeRuns& runs : all) {
    std::printf("%-18s", runs.mode.c_str());
    for (const double ns : runs.median_ns) std::printf(" %9.3f", ns / 1e3);
    const auto print_ratio = [](const ModeRuns* base, int index, const ModeRuns& row) {
      if (base == nullptr) {
        std::printf(" %12s", "-");
      } else {
        std::printf(" %11.2fx", ratio(row.median_ns[index], base->median_ns[index]));
      }
    };
    print_ratio(slot, 0, runs);
    print_ratio(slot, 2, runs);
    print_ratio(futex, 0, runs);
    print_ratio(iceoryx, 0, runs);
    std::printf("\n");
  }
  for (const ModeRuns& runs : all) {
    std::printf("  %s passes (p50 / p99 us):", runs.mode.c_str());
    for (const Pass& pass : runs.passes) {
      if (pass.error.empty()) {
        std::printf(" %.3f/%.3f", pass.ns[0] / 1e3, pass.ns[2] / 1e3);
      } else {
        std::printf(" FAILED(%s)", pass.error.c_str());
      }
    }
    std::printf("\n");
  }
}

int run(int argc, char** argv) {
  Options options;
  if (const auto exit_code = parse(argc, argv, options)) return *exit_code;
  RunMachine machine = RunMachine::at_start();
  std::vector<ModeRuns> all;
  for (const std::string& name : options.modes) all.push_back({name, {}, {}});
  bool any_failed = false;
  // Passes alternate between modes, so a noisy minute on a shared machine hurts all alike.
  for (std::uint64_t pass = 0; pass < options.repeat; ++pass) {
    for (ModeRuns& runs : all) {
      std::fprintf(stderr, "%s, pass %llu ...\n", runs.mode.c_str(),
                   static_cast<unsigned long long>(pass + 1));
      runs.passes.push_back(summarise(find_mode(runs.mode)->run(options.config)));
      any_failed = any_failed || !runs.passes.back().error.empty();
    }
  }
  machine.finish();
  for (ModeRuns& runs : all) runs.take_medians();
  print_report(options, machine, all);
  return any_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bench-pingpong", [&] { return run(argc, argv); });
}
