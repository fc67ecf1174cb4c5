// ringfile-status: every consumer's lag and state, strictly read-only. See --help and README.
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <vector>

#include "json_view.hpp"
#include "lag_limit.hpp"
#include "prometheus_view.hpp"
#include "ring_report.hpp"
#include "ring_sample.hpp"
#include "ringfile/error.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "status_settings.hpp"
#include "table_view.hpp"
#include "terminal_redraw.hpp"

namespace ringfile::status {
namespace {

struct WatchedRing {
  Ring ring;
  std::optional<RingSample> previous;
};

// Opens each ring read-only; a ring that cannot be opened is reported and left out.
std::vector<WatchedRing> open_rings(const StatusSettings& settings, int& exit_code) {
  std::vector<WatchedRing> rings;
  for (const auto& path : settings.paths) {
    try {
      rings.push_back({Ring::open(path, OpenOptions{.read_only = true}), std::nullopt});
    } catch (const Error& error) {
      programs::report_error(error.what());
      exit_code = programs::kExitFailure;
    }
  }
  return rings;
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
std::string render(const StatusSettings& settings, const std::vector<RingReport>& reports, bool live_terminal,
                   TerminalRedraw& redraw) {
  std::string text;
  switch (settings.format) {
    case OutputFormat::json:
      for (const RingReport& report : reports) text += render_json(report) + "\n";
      return text;
    case OutputFormat::prometheus:
      return render_prometheus(reports);
    case OutputFormat::table:
      break;
  }
  const TableStyle style = table_style_for_stdout(settings.color);
  if (settings.watch) {
    text += "ringfile-status  " + local_time_text() + "  every " + programs::format_duration(settings.interval) +
            (live_terminal ? "  (Ctrl-C to quit)" : "") + "\n\n";
  }
  for (const RingReport& report : reports) text += render_table(report, style) + "\n";
  text += table_footnote();
  // A terminal is redrawn in place; a log gets one block per sample.
  if (live_terminal) return redraw.frame(text);
  return settings.watch ? text + "\n" : text;
}

int run(int argc, char** argv) {
  auto parsed = parse_status_settings(argc, argv);
  if (const int* exit_code = std::get_if<int>(&parsed)) return *exit_code;
  const StatusSettings& settings = std::get<StatusSettings>(parsed);
  programs::install_stop_handlers();

  int exit_code = programs::kExitSuccess;
  std::vector<WatchedRing> rings = open_rings(settings, exit_code);
  if (rings.empty()) return exit_code;

  const bool live_terminal = settings.watch && settings.format == OutputFormat::table &&
                             programs::is_terminal(STDOUT_FILENO);
  const bool sampling_window = settings.interval > std::chrono::nanoseconds::zero();
  if (sampling_window) {
    for (WatchedRing& watched : rings) watched.previous = take_sample(watched.ring);
  }
  if (live_terminal) std::fputs("\x1b[?25l", stdout);  // hide the cursor while redrawing
  TerminalRedraw redraw;
  const auto started = std::chrono::steady_clock::now();
  std::uint64_t samples = 0;
  for (;;) {
    if (sampling_window) programs::sleep_unless_stopped(settings.interval);
    if (programs::stop_requested()) break;
    std::vector<RingReport> reports;
    for (WatchedRing& watched : rings) {
      RingSample sample = take_sample(watched.ring);
      reports.push_back(build_report(watched.previous ? &*watched.previous : nullptr, sample));
      if (sampling_window) watched.previous = std::move(sample);
    }
    const std::string text = render(settings, reports, live_terminal, redraw);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    ++samples;

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
  std::fflush(stdout);
  return exit_code;
}

}  // namespace
}  // namespace ringfile::status

int main(int argc, char** argv) {
  return ringfile::programs::run_guarded("ringfile-status", [&] { return ringfile::status::run(argc, argv); });
}
