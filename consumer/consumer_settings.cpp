#include "consumer_settings.hpp"

#include <charconv>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::consumer {
namespace {

using programs::UsageError;

std::optional<std::uint64_t> parse_count(const std::string& text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// --from: a word, or a position reported by a consumer or ringfile-status.
bool apply_start(const std::string& text, ConsumerSettings& settings) {
  if (text == "earliest") {
    settings.start = StartFrom::earliest;
  } else if (text == "latest") {
    settings.start = StartFrom::latest;
  } else if (text == "committed") {
    settings.start = StartFrom::committed;
  } else if (const auto position = parse_count(text)) {
    settings.start_position = position;
  } else {
    return false;
  }
  return true;
}

// --commit-every: a number of records, or a duration with its unit.
bool apply_commit_every(const std::string& text, ConsumerSettings& settings) {
  if (const auto records = parse_count(text); records && *records > 0) {
    settings.commit_every_records = records;
    return true;
  }
  if (const auto duration = programs::parse_duration_with_unit(text)) {
    settings.commit_every_time = duration;
    return true;
  }
  return false;
}

void check_consistency(const ConsumerSettings& settings, const CLI::App& app) {
  const auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
  if (settings.discard && (given("--output") || given("--format") || given("--append"))) {
    throw UsageError("--discard writes nothing; drop --output/--format/--append, or drop --discard");
  }
  if (settings.json && !settings.discard && settings.output == "-") {
    throw UsageError("--json prints the summary on stdout, where the records go too; "
                     "write the records with --output FILE, or use --discard");
  }
  if (given("--from") && settings.start == StartFrom::committed && !settings.start_position && settings.name.empty()) {
    throw UsageError("--from committed needs a saved cursor, which only a named consumer has; add --name");
  }
}

}  // namespace

std::variant<ConsumerSettings, int> parse_consumer_settings(int argc, char** argv) {
  ConsumerSettings settings;
  CLI::App app{
      "Attaches to a ring file and reads every record, in order: writes them out (lines, raw,\n"
      "frames), discards them, or checks synthetic records (--verify). Durations: 500ms 30s 5m\n"
      "(plain numbers are seconds). Exit status: 0 success, 1 runtime failure (bad file, failed\n"
      "verification), 2 bad usage.",
      "ringfile-consumer"};

  std::string path;
  app.add_option("PATH", path, "Ring file")->required()->type_name("");

  auto* attaching = "Attaching";
  app.add_option("--name", settings.name,
                 "Durable cursor kept in the file and resumed on restart (default: anonymous)")
      ->group(attaching);
  std::string from = "default";
  app.add_option("--from", from,
                 "earliest|latest|committed|POSITION (default: committed when named, else latest)")
      ->group(attaching)
      ->type_name("WHERE")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            ConsumerSettings probe;
            if (apply_start(text, probe)) return {};
            return "'" + text + "' is not earliest, latest, committed or a position";
          },
          ""));
  bool no_hold = false;
  app.add_flag("--no-hold", no_hold, "Never hold back producers (a tap: may be lapped and lose records); needs only read access "
               "to the ring (then it takes no consumer slot)")
      ->group(attaching);

  auto* output = "Output";
  app.add_option("--output", settings.output, "Where records go (default: - for stdout)")
      ->group(output)
      ->type_name("FILE|-");
  app.add_flag("--append", settings.append, "Append to --output FILE instead of replacing it")->group(output);
  int format = 0;
  programs::add_choice_option(app, "--format", format, programs::record_format_words(),
                              "lines: each record and a newline; raw: records back to back; frames: "
                              "4-byte little-endian length, then the payload")
      ->group(output);
  app.add_flag("--discard", settings.discard, "Write nothing (default with --verify)")->group(output);
  app.add_flag("--verify", settings.verify,
               "Check synthetic records: per-producer sequences and payloads; exit 1 on corruption, "
               "or on any loss under the block policy")
      ->group(output);

  app.add_flag("--skip-damaged", settings.skip_damaged,
               "Read on past a damaged record (as a crash of the machine leaves unsynced ones), reporting "
               "it and counting what is skipped as lost, instead of stopping there")
      ->group(output);

  auto* stopping = "Stopping and committing";
  std::uint64_t count = 0;
  app.add_option("--count", count, "Stop after N records")->group(stopping)->type_name("N");
  std::chrono::nanoseconds duration{};
  programs::add_duration_option(app, "--duration", duration, "Stop after this long")->group(stopping);
  std::chrono::nanoseconds until_idle{};
  programs::add_duration_option(app, "--until-idle", until_idle, "Stop when nothing new arrived for this long")
      ->group(stopping);
  std::string commit_every;
  app.add_option("--commit-every", commit_every,
                 "Save the cursor every N records or every DURATION (default: after each batch is written)")
      ->group(stopping)
      ->type_name("N|DURATION")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            ConsumerSettings probe;
            if (apply_commit_every(text, probe)) return {};
            return "'" + text + "' is neither a number of records nor a duration with its unit (e.g. 1000, 500ms)";
          },
          ""));

  auto* reporting = "Reporting";
  app.add_flag("--quiet", settings.quiet, "No progress and no summary line on stderr")->group(reporting);
  app.add_flag("--json", settings.json,
               "Print the summary as one JSON object on stdout (with verify: {ok, gaps, duplicates, corrupt, "
               "lost_records})")
      ->group(reporting);

  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;

  settings.path = path;
  if (from != "default") apply_start(from, settings);
  settings.holds_back = !no_hold;
  settings.format = static_cast<programs::RecordFormat>(format);
  // Synthetic records are binary: with --verify and no --output there is nothing to write.
  if (settings.verify && app.get_option("--output")->count() == 0 && app.get_option("--format")->count() == 0) {
    settings.discard = true;
  }
  if (app.get_option("--count")->count() > 0) settings.count = count;
  if (app.get_option("--duration")->count() > 0) settings.duration = duration;
  if (app.get_option("--until-idle")->count() > 0) settings.until_idle = until_idle;
  if (!commit_every.empty()) apply_commit_every(commit_every, settings);
  check_consistency(settings, app);
  return settings;
}

}  // namespace ringfile::consumer
