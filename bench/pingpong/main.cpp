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
#include "ringfile/programs/json_writer.hpp"
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
  bool json = false;
};

std::string known_modes() { return names_of(pingpong::modes()); }

// nullopt: run; otherwise the exit code (0 after --help, 2 after a bad option).
std::optional<int> parse(int argc, char** argv, Options& options) {
  CLI::App app("Sends one record at a time to an echo process pinned to another CPU and\n"
               "waits for it to come back, through each mode; reports round trip / 2 and\n"
               "the answer's one-way time from its send stamp (p50, p90, p99, p99.9, max\n"
               "over every sample, medians over --repeat passes) with ratios against the\n"
               "baselines of the same run.\nModes: " +
                   known_modes(),
               "ringfile-bench-pingpong");
  std::uint64_t record_bytes = options.config.record_bytes;
  programs::add_size_option(app, "--size", record_bytes,
                            "record bytes (at least 16: the sequence number and the send stamp)")
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
  app.add_option("--ring-dir", options.config.ring_dir,
                 "directory of the ringfile modes' two rings (a tmpfs; one mounted huge=always gives them 2 MiB pages)")
      ->capture_default_str();
  programs::add_count_option(app, "--repeat", options.repeat, "passes per mode (medians quoted)")->default_str("1");
  app.add_flag("--pre-touch", options.config.pre_touch,
               "each side reads every page of its rings (ringfile's pre_touch option) or shared memory before "
               "timing: no timed record pays for a page's first access");
  app.add_flag("--quick", options.quick, "smoke test: 20000 samples, 1000 warm-up");
  app.add_flag("--json", options.json, "print one JSON document instead of tables");
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return exit_code;
  if (options.quick) {
    if (samples->count() == 0) options.config.samples = 20'000;
    if (warmup->count() == 0) options.config.warmup = 1'000;
  }
  options.config.record_bytes = record_bytes;
  if (record_bytes < kStampBytes || record_bytes > (1u << 20)) throw programs::UsageError("--size must be 16..1M");
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
constexpr const char* kPercentileKeys[kPercentiles] = {"p50_ns", "p90_ns", "p99_ns", "p999_ns", "max_ns"};

struct Percentiles {
  double ns[kPercentiles] = {};
};

// Nearest rank over every sample (sorted in place).
Percentiles percentiles_of(std::vector<std::uint64_t>& samples) {
  Percentiles result;
  if (samples.empty()) return result;
  std::sort(samples.begin(), samples.end());
  constexpr double kRanks[kPercentiles - 1] = {0.50, 0.90, 0.99, 0.999};
  for (int index = 0; index < kPercentiles - 1; ++index) {
    const auto rank = static_cast<std::size_t>(kRanks[index] * static_cast<double>(samples.size()));
    result.ns[index] = static_cast<double>(samples[std::min(rank, samples.size() - 1)]);
  }
  result.ns[kPercentiles - 1] = static_cast<double>(samples.back());
  return result;
}

// The two ways each pass measures: round trip / 2, and the answer's way alone from its stamp.
enum Measure { kHalfRoundTrip, kReturnTrip, kMeasures };
constexpr const char* kMeasureKeys[kMeasures] = {"half_round_trip", "return_trip"};

struct Pass {
  std::string error;
  Percentiles measured[kMeasures];
};

Pass summarise(PingPongResult result) {
  Pass pass;
  pass.error = result.error;
  if (result.half_round_trip_ns.empty() && pass.error.empty()) pass.error = "no samples";
  pass.measured[kHalfRoundTrip] = percentiles_of(result.half_round_trip_ns);
  pass.measured[kReturnTrip] = percentiles_of(result.return_trip_ns);
  return pass;
}

struct ModeRuns {
  std::string mode;
  std::vector<Pass> passes;
  Percentiles median[kMeasures];

  void take_medians() {
    for (int measure = 0; measure < kMeasures; ++measure) {
      for (int index = 0; index < kPercentiles; ++index) {
        std::vector<double> values;
        for (const Pass& pass : passes) {
          if (pass.error.empty()) values.push_back(pass.measured[measure].ns[index]);
        }
        median[measure].ns[index] = ringfile::bench::median(values);
      }
    }
  }
};

const ModeRuns* find_runs(const std::vector<ModeRuns>& all, std::string_view mode) {
  for (const ModeRuns& runs : all) {
    if (runs.mode == mode) return &runs;
  }
  return nullptr;
}

// The baselines every mode's figures are divided by, where they ran.
struct Baselines {
  const ModeRuns* slot;       // one slot each way, every record on the same lines
  const ModeRuns* slot_ring;  // a ring of slots each way, moving through its buffer as ringfile's
  const ModeRuns* futex;
  const ModeRuns* iceoryx;

  explicit Baselines(const std::vector<ModeRuns>& all)
      : slot(find_runs(all, "slot_spin")),
        slot_ring(find_runs(all, "slot_ring_spin")),
        futex(find_runs(all, "futex")),
        iceoryx(find_runs(all, "iceoryx_spin")) {}
};

double ratio_to(const ModeRuns* base, Measure measure, int index, const ModeRuns& row) {
  return base == nullptr ? 0.0 : ratio(row.median[measure].ns[index], base->median[measure].ns[index]);
}

void print_table(const char* title, Measure measure, const std::vector<ModeRuns>& all) {
  const Baselines baselines(all);
  std::printf("%s, in us\n%-18s", title, "mode");
  for (const char* name : kPercentileNames) std::printf(" %9s", name);
  std::printf(" %12s %12s %12s %12s %12s %12s\n", "p50/slot", "p99/slot", "p50/ring", "p99/ring", "p50/futex",
              "p50/iceoryx");
  for (const ModeRuns& runs : all) {
    std::printf("%-18s", runs.mode.c_str());
    for (const double ns : runs.median[measure].ns) std::printf(" %9.3f", ns / 1e3);
    const auto print_ratio = [&](const ModeRuns* base, int index) {
      if (base == nullptr) {
        std::printf(" %12s", "-");
      } else {
        std::printf(" %11.2fx", ratio_to(base, measure, index, runs));
      }
    };
    print_ratio(baselines.slot, 0);
    print_ratio(baselines.slot, 2);
    print_ratio(baselines.slot_ring, 0);
    print_ratio(baselines.slot_ring, 2);
    print_ratio(baselines.futex, 0);
    print_ratio(baselines.iceoryx, 0);
    std::printf("\n");
  }
}

void print_report(const Options& options, const RunMachine& machine, const std::vector<ModeRuns>& all) {
  std::printf("ringfile-bench-pingpong, %s, Linux %s, %d CPUs; initiator on CPU %d, echo on CPU "
              "%d, %zu B records, %llu samples + %llu warm-up per pass, medians of %llu passes%s\n"
              "load average %s at start, %s at end\n\n",
              machine.started_at_utc.c_str(), machine.kernel_release.c_str(), machine.online_cpus,
              options.config.initiator_cpu, options.config.echo_cpu, options.config.record_bytes,
              static_cast<unsigned long long>(options.config.samples),
              static_cast<unsigned long long>(options.config.warmup),
              static_cast<unsigned long long>(options.repeat),
              options.config.pre_touch ? "; pages pre-touched" : "", machine.load_at_start.c_str(),
              machine.load_at_end.c_str());
  print_table("one way = round trip / 2", kHalfRoundTrip, all);
  std::printf("\n");
  print_table("one way, stamped: the echo's clock as it sent the answer to the initiator's as it held it",
              kReturnTrip, all);
  std::printf("\n");
  for (const ModeRuns& runs : all) {
    std::printf("  %s passes (round trip / 2, p50 / p99 us):", runs.mode.c_str());
    for (const Pass& pass : runs.passes) {
      if (pass.error.empty()) {
        const Percentiles& half = pass.measured[kHalfRoundTrip];
        std::printf(" %.3f/%.3f", half.ns[0] / 1e3, half.ns[2] / 1e3);
      } else {
        std::printf(" FAILED(%s)", pass.error.c_str());
      }
    }
    std::printf("\n");
  }
}

void write_percentiles(programs::JsonWriter& json, const Percentiles& percentiles) {
  json.begin_object();
  for (int index = 0; index < kPercentiles; ++index) json.field(kPercentileKeys[index], percentiles.ns[index]);
  json.end_object();
}

std::string json_report(const Options& options, const RunMachine& machine, const std::vector<ModeRuns>& all) {
  const Baselines baselines(all);
  programs::JsonWriter json;
  json.begin_object();
  machine.write_json_fields(json, "ringfile-bench-pingpong");
  json.key("config").begin_object();
  json.field("record_bytes", static_cast<std::uint64_t>(options.config.record_bytes));
  json.field("samples", options.config.samples).field("warmup", options.config.warmup);
  json.field("initiator_cpu", options.config.initiator_cpu).field("echo_cpu", options.config.echo_cpu);
  json.field("repeat", options.repeat).field("pre_touch", options.config.pre_touch);
  json.end_object();
  json.key("modes").begin_array();
  for (const ModeRuns& runs : all) {
    json.begin_object().field("mode", runs.mode);
    for (int measure = 0; measure < kMeasures; ++measure) {
      json.key(kMeasureKeys[measure]).begin_object();
      json.key("median");
      write_percentiles(json, runs.median[measure]);
      const auto write_ratio = [&](const char* key, const ModeRuns* base, int index) {
        if (base != nullptr) json.field(key, ratio_to(base, static_cast<Measure>(measure), index, runs));
      };
      write_ratio("p50_vs_slot_spin", baselines.slot, 0);
      write_ratio("p99_vs_slot_spin", baselines.slot, 2);
      write_ratio("p50_vs_slot_ring_spin", baselines.slot_ring, 0);
      write_ratio("p99_vs_slot_ring_spin", baselines.slot_ring, 2);
      write_ratio("p50_vs_futex", baselines.futex, 0);
      write_ratio("p50_vs_iceoryx_spin", baselines.iceoryx, 0);
      json.end_object();
    }
    json.key("passes").begin_array();
    for (const Pass& pass : runs.passes) {
      json.begin_object().field("error", pass.error);
      for (int measure = 0; measure < kMeasures; ++measure) {
        json.key(kMeasureKeys[measure]);
        write_percentiles(json, pass.measured[measure]);
      }
      json.end_object();
    }
    json.end_array().end_object();
  }
  json.end_array().end_object();
  return json.text() + "\n";
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
  if (options.json) {
    std::fputs(json_report(options, machine, all).c_str(), stdout);
  } else {
    print_report(options, machine, all);
  }
  return any_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-bench-pingpong", [&] { return run(argc, argv); });
}
