#include "consumer_settings.hpp"

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/start_point.hpp"
#include "ringfile/programs/time_points.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::consumer {
namespace {

using programs::UsageError;

// --commit-every: a number of records, or a duration with its unit; nothing else is taken. A
// zero interval is neither: why is told apart, for the error message.
enum class CommitEvery { taken, zero, unreadable };

CommitEvery apply_commit_every(const std::string& text, ConsumerSettings& settings) {
  if (const auto records = programs::parse_count(text)) {
    if (*records == 0) return CommitEvery::zero;
    settings.commit_every_records = records;
    return CommitEvery::taken;
  }
  if (const auto duration = programs::parse_duration_with_unit(text)) {
    if (duration->count() == 0) return CommitEvery::zero;
    settings.commit_every_time = duration;
    return CommitEvery::taken;
  }
  return CommitEvery::unreadable;
}

// Checks --show now, so that a bad template is a usage error before anything is read.
void check_show_template(const std::string& text) {
  for (std::size_t index = 0; index < text.size(); ++index) {
    if (text[index] == '%') {
      const char field = index + 1 < text.size() ? text[index + 1] : '\0';
      if (std::string_view("ptTPslve%").find(field) == std::string_view::npos || field == '\0') {
        throw UsageError("--show: '%" + std::string(field == '\0' ? "" : std::string(1, field)) +
                         "' is not a field; use %p position, %t time, %T nanoseconds, %P producer, %s sequence, "
                         "%l length, %v payload, %e payload escaped, %% a percent sign");
      }
      ++index;
    } else if (text[index] == '\\') {
      const char escape = index + 1 < text.size() ? text[index + 1] : '\0';
      if (std::string_view("ntr0\\").find(escape) == std::string_view::npos || escape == '\0') {
        throw UsageError("--show: '\\" + std::string(escape == '\0' ? "" : std::string(1, escape)) +
                         "' is not an escape; use \\n, \\t, \\r, \\0 or \\\\");
      }
      ++index;
    }
  }
}

void check_consistency(const ConsumerSettings& settings, const CLI::App& app) {
  const auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
  if (settings.action != Action::read) {
    for (const char* reading : {"--from", "--no-hold", "--output", "--append", "--format", "--show", "--discard",
                                "--verify", "--count", "--duration", "--until-idle", "--until", "--commit-every",
                                "--name", "--expire-after"}) {
      if (given(reading)) {
        throw UsageError(std::string(reading) + " is for reading records; --list, --describe, --delete, --reset "
                                                "and --clear-damaged-slots read none");
      }
    }
    if (settings.action != Action::reset && given("--to")) throw UsageError("--to goes with --reset NAME");
    if (settings.action != Action::reset && settings.action != Action::clear_damaged && given("--dry-run")) {
      throw UsageError("--dry-run goes with --reset NAME or --clear-damaged-slots");
    }
    if (settings.action == Action::reset && !given("--to")) {
      throw UsageError("--reset needs a target: --to earliest|latest|POSITION|-N|TIME");
    }
    if (given("--next-boundary") && settings.action != Action::reset) {
      throw UsageError("--next-boundary goes with --from POSITION or --reset NAME --to POSITION");
    }
    return;
  }
  if (given("--to")) throw UsageError("--to goes with --reset NAME");
  if (given("--dry-run")) throw UsageError("--dry-run goes with --reset NAME or --clear-damaged-slots");
  // An unset variable in a script (--name "$NAME") would read anonymously and save no cursor.
  if (given("--name") && settings.name.empty()) {
    throw UsageError("--name: an empty name; give the consumer's name, or drop --name to read anonymously");
  }
  if (settings.discard && (given("--output") || given("--format") || given("--append") || given("--show"))) {
    throw UsageError("--discard writes nothing; drop --output/--format/--append/--show, or drop --discard");
  }
  if (given("--append") && settings.output == "-") {
    throw UsageError("--append applies to --output FILE; records go to stdout without it");
  }
  if (given("--show") && given("--format")) {
    throw UsageError("--show writes each record through its template; drop --format (or --show)");
  }
  if (settings.json && !settings.discard && settings.output == "-") {
    throw UsageError("--json prints the summary on stdout, where the records go too; "
                     "write the records with --output FILE, or use --discard");
  }
  if (given("--from") && settings.start == StartFrom::committed && !settings.seek && settings.name.empty()) {
    throw UsageError("--from committed needs a saved cursor, which only a named consumer has; add --name");
  }
  if (given("--next-boundary") && !(settings.seek && settings.seek->kind == Seek::Kind::position)) {
    throw UsageError("--next-boundary goes with --from POSITION or --reset NAME --to POSITION");
  }
  if (given("--expire-after") && settings.name.empty()) {
    throw UsageError("--expire-after applies to a named consumer's saved cursor; add --name");
  }
  // 0 is how the slot says "never" (found by a tester: --expire-after 0 was taken for it silently).
  if (given("--expire-after") && settings.expire_after.count() == 0) {
    throw UsageError("--expire-after must be at least 1ms; leave it out for a consumer that never expires");
  }
}

void apply_action(const CLI::App& app, ConsumerSettings& settings) {
  const auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
  int actions = 0;
  if (given("--list")) {
    settings.action = Action::list;
    ++actions;
  }
  if (given("--describe")) {
    settings.action = Action::describe;
    ++actions;
  }
  if (given("--delete")) {
    settings.action = Action::remove;
    ++actions;
    // --delete takes every word after it as a name, options too (found by a tester: "--delete
    // --until-idle 0.2s" deleted consumers named '--until-idle' and '0.2s', or tried to).
    for (const std::string& name : settings.delete_names) {
      if (name.rfind("--", 0) != 0) continue;
      const std::string option = name.substr(0, name.find('='));
      if (app.get_option_no_throw(option) != nullptr) {
        throw UsageError("'" + option + "' after --delete is taken for a NAME; give the options before --delete");
      }
    }
  }
  if (given("--reset")) {
    settings.action = Action::reset;
    ++actions;
  }
  if (given("--clear-damaged-slots")) {
    settings.action = Action::clear_damaged;
    ++actions;
  }
  if (actions > 1) {
    throw UsageError("--list, --describe, --delete, --reset and --clear-damaged-slots are separate tasks; give one");
  }
}

}  // namespace

std::variant<ConsumerSettings, int> parse_consumer_settings(int argc, char** argv) {
  ConsumerSettings settings;
  CLI::App app{
      "Attaches to a ring file and reads every record, in order: writes them out (lines, raw,\n"
      "frames, JSON lines, hex), discards them, or checks synthetic records (--verify). Also\n"
      "lists, describes, deletes and resets named consumers, and frees slots a damaged header\n"
      "left unreadable. Durations: 500ms 30s 5m 7d (plain numbers are seconds). Times:\n"
      "2025-03-01T14:05:00Z (no zone: local time), @UNIX_SECONDS, 10m-ago. Exit status: 0\n"
      "success, 1 runtime failure (bad file, failed verification), 2 bad usage.",
      "ringfile-consumer"};

  std::string path;
  app.add_option("PATH", path, "Ring file")->required()->type_name("");

  auto* attaching = "Attaching";
  app.add_option("--name", settings.name,
                 "Durable cursor kept in the file and resumed on restart (default: anonymous)")
      ->group(attaching);
  std::string from = "default";
  app.add_option("--from", from,
                 "earliest|latest|committed|POSITION|-N|TIME: where to start; -N is the N-th last record, TIME "
                 "the first record committed then or later (default: committed when named, else latest)")
      ->group(attaching)
      ->type_name("WHERE")
      ->check(programs::start_point_validator(true));
  bool next_boundary = false;
  app.add_flag("--next-boundary", next_boundary,
               "With a POSITION inside a record: start at the next record instead of refusing")
      ->group(attaching);
  bool no_hold = false;
  app.add_flag("--no-hold", no_hold, "Never hold back producers (a tap: may be lapped and lose records); needs only read access "
               "to the ring (then it takes no consumer slot)")
      ->group(attaching);
  std::chrono::nanoseconds expire_after{};
  programs::add_duration_option(app, "--expire-after", expire_after,
                                "A named consumer not attached for this long expires: it stops counting and "
                                "its slot may be reused (default: never)")
      ->group(attaching);

  auto* output = "Output";
  app.add_option("--output", settings.output, "Where records go (default: - for stdout)")
      ->group(output)
      ->type_name("FILE|-");
  app.add_flag("--append", settings.append, "Append to --output FILE instead of replacing it (a named consumer resuming at its cursor "
                "always appends: it goes on after what its last run wrote)")->group(output);
  int format = 0;
  programs::add_choice_option(app, "--format", format, {"lines", "raw", "frames", "jsonl", "hex"},
                              "lines: each record and a newline; raw: records back to back; frames: 4-byte "
                              "little-endian length, then the payload; jsonl: a JSON object per record with "
                              "its position, time, producer, sequence and payload (text if UTF-8, else "
                              "base64); hex: a header line and a hex dump per record")
      ->group(output);
  app.add_option("--show", settings.show_template,
                 "Write each record through TEMPLATE: %p position, %t time (ISO 8601), %T nanoseconds, "
                 "%P producer, %s sequence, %l length, %v payload, %e payload escaped on one line, %% percent; "
                 "\\n \\t \\r \\0 \\\\ escapes; no newline is added (e.g. '%p %t %v\\n')")
      ->group(output)
      ->type_name("TEMPLATE");
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
  programs::add_count_option(app, "--count", count, "Stop after N records")->group(stopping);
  std::chrono::nanoseconds duration{};
  programs::add_duration_option(app, "--duration", duration, "Stop after this long")->group(stopping);
  std::chrono::nanoseconds until_idle{};
  programs::add_duration_option(app, "--until-idle", until_idle, "Stop when nothing new arrived for this long (records below the head that are not "
                                "committed yet do not count as nothing)")
      ->group(stopping);
  std::string until;
  app.add_option("--until", until, "Stop before the first record committed at TIME or later")
      ->group(stopping)
      ->type_name("TIME")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (programs::parse_time_point(text)) return {};
            if (auto problem = programs::explain_unusable_time(text)) return *problem;
            return "'" + text + "' is not a time (2025-03-01T14:05:00Z, @UNIX_SECONDS, 10m-ago)";
          },
          ""));
  std::string commit_every;
  app.add_option("--commit-every", commit_every,
                 "Save the cursor every N records or every DURATION (default: after each batch is written)")
      ->group(stopping)
      ->type_name("N|DURATION")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            ConsumerSettings probe;
            switch (apply_commit_every(text, probe)) {
              case CommitEvery::taken: return {};
              case CommitEvery::zero:
                return "'" + text + "' is no interval; save the cursor every 1 record or more, or every positive "
                       "duration (e.g. 1000, 500ms)";
              case CommitEvery::unreadable: break;
            }
            return "'" + text + "' is neither a number of records nor a duration with its unit (e.g. 1000, 500ms)";
          },
          ""));

  auto* managing = "Managing named consumers (instead of reading)";
  bool list = false;
  app.add_flag("--list", list, "List every consumer of the ring: state, cursor, lag, last seen, expiry")->group(managing);
  app.add_option("--describe", settings.target_name, "Everything about the consumer NAME")
      ->group(managing)
      ->type_name("NAME");
  app.add_option("--delete", settings.delete_names,
                 "Remove the named consumer (not while attached): its cursor and slot are freed")
      ->group(managing)
      ->type_name("NAME");
  app.add_option("--reset", settings.target_name, "Move the saved cursor of NAME (not while attached) --to WHERE")
      ->group(managing)
      ->type_name("NAME");
  std::string to;
  app.add_option("--to", to, "With --reset: earliest|latest|POSITION|-N|TIME")
      ->group(managing)
      ->type_name("WHERE")
      ->check(programs::start_point_validator(false));
  bool clear_damaged = false;
  app.add_flag("--clear-damaged-slots", clear_damaged,
               "Free the consumer and producer slots holding what no ringfile writes (a damaged header), which "
               "keep the ring from opening: what they held is lost, the records are kept; one whose owner "
               "process is alive is left alone (exit 1)")
      ->group(managing);
  app.add_flag("--dry-run", settings.dry_run,
               "With --reset: show the lag before and after; with --clear-damaged-slots: list them. Change nothing")
      ->group(managing);

  auto* reporting = "Reporting";
  app.add_flag("--quiet", settings.quiet, "No progress and no summary line on stderr")->group(reporting);
  app.add_flag("--json", settings.json,
               "Print the summary (or what --list, --describe, --delete, --reset, --clear-damaged-slots found) as "
               "JSON on stdout")
      ->group(reporting);

  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;

  settings.path = path;
  apply_action(app, settings);
  if (from != "default") {
    const programs::StartPoint where = *programs::parse_start_point(from);
    if (where.word) settings.start = *where.word;
    settings.seek = where.seek;
    settings.from_time_ns = where.time_ns;
  }
  if (!to.empty()) {
    const programs::StartPoint where = *programs::parse_start_point(to);
    settings.reset_to = where.seek ? *where.seek : where.word == StartFrom::earliest ? Seek::earliest() : Seek::latest();
  }
  for (Seek* seek : {settings.seek ? &*settings.seek : nullptr, &settings.reset_to}) {
    if (seek != nullptr && seek->kind == Seek::Kind::position) seek->next_boundary = next_boundary;
  }
  settings.holds_back = !no_hold;
  settings.expire_after = std::chrono::duration_cast<std::chrono::milliseconds>(expire_after);
  settings.format = static_cast<OutputFormat>(format);
  // A named consumer that resumes at its cursor goes on after the records its last run delivered
  // and committed: replacing the file would lose them for good, and the cursor would not bring
  // them back. One told to start elsewhere (--from) writes afresh, as an anonymous one does.
  if (!settings.name.empty() && settings.start == StartFrom::committed && !settings.seek) settings.append = true;
  // Synthetic records are binary: with --verify and no --output there is nothing to write.
  if (settings.verify && app.get_option("--output")->count() == 0 && app.get_option("--format")->count() == 0) {
    settings.discard = true;
  }
  if (app.get_option("--count")->count() > 0) settings.count = count;
  if (app.get_option("--duration")->count() > 0) settings.duration = duration;
  if (app.get_option("--until-idle")->count() > 0) settings.until_idle = until_idle;
  if (!until.empty()) settings.until_time_ns = programs::nanoseconds_since_epoch(*programs::parse_time_point(until));
  if (!commit_every.empty()) apply_commit_every(commit_every, settings);
  if (app.get_option("--show")->count() > 0 && settings.show_template.empty()) {
    // Taken for no --show at all, it wrote the records in the default format instead.
    throw UsageError("--show: an empty template shows nothing; give the fields to show (--show '%p %v\\n'), or "
                     "--discard");
  }
  if (!settings.show_template.empty()) check_show_template(settings.show_template);
  check_consistency(settings, app);
  return settings;
}

}  // namespace ringfile::consumer
