#include "status_settings.hpp"

#include <unistd.h>

#include <cstdlib>

#include "metrics_server.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::status {
namespace {

using programs::UsageError;

// --max-lag: a duration needs its unit ("30s"); anything else is a size ("512M", or bytes).
bool apply_max_lag(const std::string& text, LagLimit& limit) {
  if (const auto time = programs::parse_duration_with_unit(text)) {
    limit.time = time;
    return true;
  }
  if (const auto bytes = programs::parse_byte_size(text)) {
    limit.bytes = bytes;
    return true;
  }
  return false;
}

}  // namespace

std::variant<StatusSettings, int> parse_status_settings(int argc, char** argv) {
  StatusSettings settings;
  CLI::App app{
      "Shows every consumer of ring files: lag in bytes, records and seconds, read rate, and a\n"
      "state (OK, LAGGING, STALLED, DEAD, LAPPED, DETACHED, EXPIRED, DAMAGED); every producer;\n"
      "the ring's page cache use. Opens the files read-only and never writes to them.\n"
      "With --prometheus (or --listen) an unreadable ring is reported as ringfile_up 0.\n"
      "Exit status: 0 success, 1 unreadable ring, damaged consumer slot or --max-lag exceeded,\n"
      "2 bad usage.",
      "ringfile-status"};

  std::vector<std::string> paths;
  app.add_option("PATH", paths, "Ring file(s)")->required()->type_name("");
  programs::add_duration_option(app, "--interval", settings.interval,
                                "Sampling window for rates and trends (default 1s; 0: one sample, no rates)");
  std::string watch_interval;
  app.add_option("--watch", watch_interval, "Refresh every INTERVAL (default: --interval) until interrupted")
      ->expected(0, 1)
      ->type_name("[INTERVAL]")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (text.empty() || programs::parse_duration(text)) return {};
            return programs::explain_bad_duration(text);
          },
          ""));
  std::chrono::nanoseconds duration{};
  programs::add_duration_option(app, "--duration", duration, "With --watch: stop after this long");
  std::uint64_t samples = 0;
  programs::add_count_option(app, "--count", samples, "With --watch: stop after N samples (1 or more)");
  bool json = false;
  bool prometheus = false;
  app.add_flag("--json", json, "One JSON document per ring and sample, one per line");
  app.add_flag("--prometheus", prometheus, "The Prometheus text exposition format");
  std::string max_lag;
  app.add_option("--max-lag", max_lag,
                 "Exit 1, naming the consumer, when any lags more than SIZE (e.g. 512M) or DURATION (e.g. 30s); "
                 "one whose oldest unread record is gone (more than a whole ring behind, or dropped by the paging "
                 "engine) is over any DURATION")
      ->type_name("SIZE|DURATION")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            LagLimit probe;
            if (apply_max_lag(text, probe)) return {};
            return "'" + text + "' is neither a size (512M) nor a duration with its unit (30s)";
          },
          ""));
  app.add_option("--listen", settings.listen,
                 "Serve the Prometheus format over HTTP at http://HOST:PORT/metrics, sampled every --interval, "
                 "until interrupted (e.g. 127.0.0.1:9464; port 0 picks one and says which on stderr)")
      ->type_name("HOST:PORT")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (valid_listen_address(text)) return {};
            return "'" + text + "' is not HOST:PORT (e.g. 127.0.0.1:9464, [::1]:9464, :9464)";
          },
          ""));
  bool no_color = false;
  app.add_flag("--no-color", no_color, "No ANSI colours in the table (also: NO_COLOR in the environment)");

  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;

  settings.paths.assign(paths.begin(), paths.end());
  settings.watch = app.get_option("--watch")->count() > 0;
  if (!watch_interval.empty()) settings.interval = *programs::parse_duration(watch_interval);
  settings.format = json ? OutputFormat::json : prometheus ? OutputFormat::prometheus : OutputFormat::table;
  if (app.get_option("--duration")->count() > 0) settings.watch_duration = duration;
  if (app.get_option("--count")->count() > 0) settings.watch_samples = samples;
  if (!max_lag.empty()) apply_max_lag(max_lag, settings.max_lag);
  settings.color = !no_color && std::getenv("NO_COLOR") == nullptr && programs::is_terminal(STDOUT_FILENO);

  if (json && prometheus) throw UsageError("--json and --prometheus are two output formats; choose one");
  if ((settings.watch_duration || settings.watch_samples) && !settings.watch) {
    throw UsageError("--duration and --count end a --watch; add --watch");
  }
  // The first sample is shown before any stop is considered; a watch of no samples would show
  // nothing at all, which is never what was meant.
  if (settings.watch_samples == 0u) throw UsageError("--count 0 asks for no sample; give 1 or more, or drop --count");
  if (settings.watch && settings.interval <= std::chrono::nanoseconds::zero()) {
    throw UsageError("--watch needs an interval above zero (e.g. --watch 1s)");
  }
  if (settings.watch && settings.format == OutputFormat::prometheus) {
    throw UsageError("--prometheus prints one sample for a scraper or a textfile collector; drop --watch "
                     "(or serve it with --listen)");
  }
  if (!settings.listen.empty()) {
    if (settings.watch || settings.format == OutputFormat::json || settings.max_lag.bytes || settings.max_lag.time) {
      throw UsageError("--listen serves the Prometheus format until interrupted; drop --watch, --json and --max-lag");
    }
    if (settings.interval <= std::chrono::nanoseconds::zero()) {
      throw UsageError("--listen samples every --interval, which must be above zero (e.g. --interval 5s)");
    }
    settings.format = OutputFormat::prometheus;
  }
  return settings;
}

}  // namespace ringfile::status
