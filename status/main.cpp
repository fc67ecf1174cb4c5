// ringfile-status: every consumer's lag and state, strictly read-only. See --help and README.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "json_view.hpp"
#include "lag_limit.hpp"
#include "metrics_server.hpp"
#include "prometheus_view.hpp"
#include "ring_report.hpp"
#include "ring_sample.hpp"
#include "ringfile/error.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/text_table.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/truncated_rings.hpp"
#include "status_settings.hpp"
#include "table_view.hpp"
#include "terminal_redraw.hpp"

namespace ringfile::status {
namespace {

struct WatchedRing {
  std::filesystem::path path;
  std::optional<Ring> ring;  // opened read-only; empty while it cannot be
  std::optional<RingSample> previous;
  bool failure_reported = false;
};

// Opens the ring if it is not open yet, saying why not the first time. True when it is open.
bool ensure_open(WatchedRing& watched) {
  if (watched.ring) return true;
  try {
    watched.ring = Ring::open(watched.path, OpenOptions{.read_only = true});
  } catch (const Error& error) {
    if (!watched.failure_reported) programs::report_error(error.what());
    watched.failure_reported = true;
    return false;
  }
  watched.failure_reported = false;  // should it go again, say why
  return true;
}

// Closes the ring when its path no longer names the file that is open (removed, or another ring
// created in its place): the handle would go on reading the old file, showing a ring deleted as
// up and never the new one. It is then opened again, or said unreadable, like any ring not open.
void close_if_replaced(WatchedRing& watched) {
  if (!watched.ring || watched.ring->path_names_this_file()) return;
  watched.ring.reset();
  watched.previous.reset();  // rates against another file's sample would mean nothing
}

struct SampleRound {
  std::vector<RingReport> reports;
  std::vector<std::filesystem::path> unreadable;
};

// One sample of every ring; rates against each ring's previous sample, which this one replaces
// when `keep_for_rates`. `follow_paths` (--watch, --listen): a ring whose path now names another
// file or none is opened again, or shown unreadable.
SampleRound sample_rings(std::vector<WatchedRing>& rings, bool keep_for_rates, bool follow_paths) {
  SampleRound round;
  for (WatchedRing& watched : rings) {
    if (follow_paths) close_if_replaced(watched);
    if (!ensure_open(watched)) {
      round.unreadable.push_back(watched.path);
      continue;
    }
    RingSample sample = take_sample(*watched.ring);
    round.reports.push_back(build_report(watched.previous ? &*watched.previous : nullptr, sample));
    if (keep_for_rates) watched.previous = std::move(sample);
  }
  return round;
}

// --listen: samples every --interval and serves the latest exposition until interrupted.
int serve_metrics(const StatusSettings& settings, std::vector<WatchedRing>& rings) {
  MetricsServer server(settings.listen);
  std::fprintf(stderr, "%s: serving the metrics of %zu ring%s at http://%s/metrics\n", programs::program_name().c_str(),
               rings.size(), rings.size() == 1 ? "" : "s", server.bound_address().c_str());
  std::fflush(stderr);
  for (;;) {
    const SampleRound round = sample_rings(rings, true, true);
    server.set_page(render_prometheus(round.reports, round.unreadable));
    server.serve_until(std::chrono::steady_clock::now() + settings.interval);
    if (programs::stop_requested()) return programs::kExitSuccess;
  }
}

std::string local_time_text() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &local);
  return text;
}

// Everything one sample prints, in the chosen format.
std::string render(const StatusSettings& settings, const SampleRound& round, bool live_terminal,
                   TerminalRedraw& redraw) {
  const std::vector<RingReport>& reports = round.reports;
  std::string text;
  switch (settings.format) {
    case OutputFormat::json:
      for (const RingReport& report : reports) text += render_json(report) + "\n";
      return text;
    case OutputFormat::prometheus:
      return render_prometheus(reports, round.unreadable);
    case OutputFormat::table:
      break;
  }
  const TableStyle style = table_style_for_stdout(settings.color);
  if (settings.watch) {
    text += "ringfile-status  " + local_time_text() + "  every " + programs::format_duration(settings.interval) +
            (live_terminal ? "  (Ctrl-C to quit)" : "") + "\n\n";
  }
  for (const RingReport& report : reports) text += render_table(report, style) + "\n";
  text += table_footnote(style.width);
  if (style.width > 0) text = programs::fit_lines(text, style.width);
  // A terminal is redrawn in place; a log gets one block per sample.
  if (live_terminal) return redraw.frame(text);
  return settings.watch ? text + "\n" : text;
}

int run(int argc, char** argv) {
  auto parsed = parse_status_settings(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const StatusSettings& settings = std::get<StatusSettings>(parsed);
  programs::install_stop_handlers();

  std::vector<WatchedRing> rings;
  for (const auto& path : settings.paths) rings.push_back({path, std::nullopt, std::nullopt, false});
  if (!settings.listen.empty()) return serve_metrics(settings, rings);

  int exit_code = programs::kExitSuccess;
  bool any_open = false;
  for (WatchedRing& watched : rings) {
    if (ensure_open(watched)) {
      any_open = true;
    } else {
      exit_code = programs::kExitFailure;
    }
  }
  // A scraper still gets ringfile_up 0 for rings it cannot read.
  if (!any_open && settings.format != OutputFormat::prometheus) return exit_code;

  const bool live_terminal = settings.watch && settings.format == OutputFormat::table &&
                             programs::is_terminal(STDOUT_FILENO);
  const bool sampling_window = settings.interval > std::chrono::nanoseconds::zero();
  if (sampling_window) sample_rings(rings, true, settings.watch);
  if (live_terminal) std::fputs("\x1b[?25l", stdout);  // hide the cursor while redrawing
  TerminalRedraw redraw;
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t samples = 0;
  std::set<std::string> reported_damage;
  for (;;) {
    if (sampling_window) programs::sleep_unless_stopped(settings.interval);
    if (programs::stop_requested()) break;
    const SampleRound round = sample_rings(rings, sampling_window, settings.watch);
    // A ring gone while watched (or still missing) fails the run, as one missing at start does.
    if (!round.unreadable.empty()) exit_code = programs::kExitFailure;
    // A ring cut short while watched: its header still reads (a sample of it goes on looking
    // right), but it is no longer a ring, as opening it now would say.
    if (char truncated[512]; describe_truncated_ring(truncated, sizeof truncated)) {
      programs::report_error(truncated);
      exit_code = programs::kExitFailure;
      break;
    }
    const std::vector<RingReport>& reports = round.reports;
    const std::string text = render(settings, round, live_terminal, redraw);
    std::fwrite(text.data(), 1, text.size(), stdout);
    if (!programs::flush_stdout()) {
      exit_code = programs::kExitFailure;
      break;
    }
    ++samples;

    // A damaged slot fails the run, said once for each ring (not at every redraw), and the watch
    // goes on.
    for (const RingReport& report : reports) {
      const std::vector<std::string> lines = damage_lines(report);
      if (lines.empty()) continue;
      exit_code = programs::kExitFailure;
      if (!reported_damage.insert(report.path.string()).second) continue;
      for (const std::string& line : lines) programs::report_error(line);
    }
    bool over_limit = false;
    for (const RingReport& report : reports) {
      for (const std::string& line : lag_violations(report, settings.max_lag)) {
        programs::report_error(line);
        over_limit = true;
      }
    }
    if (over_limit) {
      exit_code = programs::kExitFailure;
      break;
    }
    if (!settings.watch) break;
    if (settings.watch_samples && samples >= *settings.watch_samples) break;
    if (settings.watch_duration && std::chrono::steady_clock::now() - started >= *settings.watch_duration) break;
  }
  if (live_terminal) std::fputs("\x1b[?25h", stdout);
  return exit_code;
}

}  // namespace
}  // namespace ringfile::status

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-status", [&] { return ringfile::status::run(argc, argv); });
}
