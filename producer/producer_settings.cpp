#include "producer_settings.hpp"

#include <algorithm>

#include "ringfile/format/file_header.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::producer {
namespace {

using programs::UsageError;

// "auto" (0), "ring" (the whole ring) or a size, as CreateOptions::hold_window_bytes takes it.
std::optional<std::uint64_t> parse_hold_window(const std::string& text) {
  if (text == "auto") return 0;
  if (text == "ring") return kHoldWindowWholeRing;
  const auto bytes = programs::parse_byte_size(text);
  if (!bytes || *bytes == 0) return std::nullopt;
  return bytes;
}

// Combinations CLI11 cannot express; each message names the problem and the fix.
void check_consistency(const ProducerSettings& settings, const CLI::App& app) {
  const auto given = [&](const char* name) { return app.get_option(name)->count() > 0; };
  for (const char* creation_option :
       {"--size", "--policy", "--max-record", "--mode", "--paging", "--hold-window", "--consumer-grace"}) {
    if (given(creation_option) && !settings.create) {
      throw UsageError(std::string(creation_option) + " only applies when creating a ring; add --create");
    }
  }
  if (settings.create && !given("--size")) {
    throw UsageError("--create needs the ring's capacity; add --size (e.g. --size 1G)");
  }
  if (settings.synthetic && (given("--input") || given("--format"))) {
    throw UsageError("--synthetic makes its own records and reads no input; drop --input/--format");
  }
  if (!settings.synthetic && settings.process_count() > 1) {
    throw UsageError("one input cannot feed several producer processes; use --synthetic with several "
                     "PATHs or --procs, or run one ringfile-producer per input");
  }
  if (!settings.synthetic && given("--rate")) {
    throw UsageError("--rate paces synthetic records; add --synthetic");
  }
  if (given("--record-size")) {
    if (!settings.synthetic && settings.format != programs::RecordFormat::raw) {
      throw UsageError("--record-size applies to --format raw and --synthetic; lines and frames carry their own sizes");
    }
    if (!settings.synthetic && settings.record_size.is_range()) {
      throw UsageError("--format raw cuts the input into chunks of one size; give --record-size a single size");
    }
  }
  if (settings.synthetic && settings.record_size.min_bytes < kSyntheticMinBytes) {
    throw UsageError("synthetic records need at least " + std::to_string(kSyntheticMinBytes) +
                     " bytes for their header; raise --record-size");
  }
  if (settings.record_size.min_bytes == 0 && !settings.synthetic && settings.format == programs::RecordFormat::raw) {
    throw UsageError("--record-size must be at least 1 byte");
  }
}

constexpr PagingStrategy kPagingChoices[] = {PagingStrategy::automatic, PagingStrategy::zero_range,
                                             PagingStrategy::punch_hole, PagingStrategy::prefetch_only,
                                             PagingStrategy::none};

}  // namespace

std::optional<SyncPolicy> parse_sync_policy(std::string_view text) {
  SyncPolicy sync;
  if (text == "none") return sync;
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const std::string_view kind = text.substr(0, colon);
  const std::string_view value = text.substr(colon + 1);
  if (kind == "interval") {
    const auto interval = programs::parse_duration(value);
    if (!interval || *interval < std::chrono::milliseconds(1)) return std::nullopt;
    sync.mode = SyncPolicy::Mode::interval;
    sync.interval = std::chrono::duration_cast<std::chrono::milliseconds>(*interval);
    return sync;
  }
  if (kind == "bytes") {
    const auto bytes = programs::parse_byte_size(value);
    if (!bytes || *bytes == 0) return std::nullopt;
    sync.mode = SyncPolicy::Mode::bytes;
    sync.bytes = *bytes;
    return sync;
  }
  return std::nullopt;
}

std::variant<ProducerSettings, int> parse_producer_settings(int argc, char** argv) {
  ProducerSettings settings;
  CLI::App app{
      "Writes records into ring files: lines, raw chunks or length-prefixed frames from a file or\n"
      "stdin, or self-verifying synthetic records. Sizes: 512K 64M 8G 1T (powers of 1024; plain\n"
      "numbers are bytes). Durations: 500ms 30s 5m (plain numbers are seconds).\n"
      "Exit status: 0 success, 1 runtime failure, 2 bad usage.",
      "ringfile-producer"};

  std::vector<std::string> paths;
  app.add_option("PATH", paths, "Ring file(s); one producer process per PATH (see --procs)")->required()->type_name("");

  auto* creation = "Creating";
  app.add_flag("--create", settings.create, "Create the ring if absent (an existing one must match)")->group(creation);
  programs::add_size_option(app, "--size", settings.size_bytes, "Capacity of a new ring (a multiple of 4K)")
      ->group(creation);
  int policy = 0;
  programs::add_choice_option(app, "--policy", policy, {"block", "overwrite"},
                              "block: wait for holding consumers (default); overwrite: never wait")
      ->group(creation);
  std::uint64_t max_record = 0;
  programs::add_size_option(app, "--max-record", max_record,
                            "Largest record of a new ring (default 16M, or for a smaller ring a quarter of it less the 40-byte record header, so that four whole records fit)")
      ->group(creation);
  int paging = 0;
  programs::add_choice_option(app, "--paging", paging, {"automatic", "zero-range", "punch-hole", "prefetch", "none"},
                              "How a ring larger than memory keeps its laps fast: automatic (zero-range on "
                              "disk for rings over 512M or over a sixteenth of the memory this process may use, or "
                              "past a quarter of it with the rings kept whole open now; none on tmpfs and for smaller "
                              "rings)")
      ->group(creation);
  std::string hold_window_text;
  app.add_option("--hold-window", hold_window_text,
                 "Block policy: how far producers may run ahead of a consumer that keeps up, so that "
                 "what it has not read stays in memory: auto (what fits the memory budget, the "
                 "default), a size (e.g. 256M; the ring's size or more is the whole ring), or ring "
                 "(the whole ring: bursts fill it, and what does not fit in memory is written out "
                 "and read back)")
      ->group(creation)
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (parse_hold_window(text)) return "";
            if (programs::parse_byte_size(text)) {
              return "'" + text + "' holds nothing in memory; give auto, ring or a size above 0 (e.g. 256M)";
            }
            return "'" + text + "' is not auto, ring or a size (e.g. 256M)";
          },
          ""))
      ->type_name("SIZE|auto|ring");
  std::chrono::nanoseconds consumer_grace{0};
  programs::add_duration_option(app, "--consumer-grace", consumer_grace,
                                "Block policy: how long a holding consumer that stopped (detached, or its process "
                                "died) still holds producers back at its cursor, so that one started again within "
                                "it loses nothing (default 10s; 1ms to 49 days)")
      ->group(creation);
  std::string mode_text = "0640";
  app.add_option("--mode", mode_text, "Permissions of a new ring file (an existing ring must have them)")
      ->group(creation)
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            return programs::parse_file_mode(text)
                       ? ""
                       : "'" + text + "' is not an octal file mode of permissions, 0000 to 0777 (e.g. 0640)";
          },
          ""))
      ->type_name("MODE")
      ->capture_default_str();

  auto* input = "Input";
  app.add_option("--input", settings.input, "File to read records from (default: - for stdin)")
      ->group(input)
      ->type_name("FILE|-");
  int format = 0;
  programs::add_choice_option(app, "--format", format, programs::record_format_words(),
                              "lines: one record per line; raw: chunks of --record-size; "
                              "frames: 4-byte little-endian length, then the payload")
      ->group(input);
  app.add_flag("--synthetic", settings.synthetic,
               "Write self-verifying records (check them with ringfile-consumer --verify)")
      ->group(input);
  std::string record_size_text;
  app.add_option("--record-size", record_size_text,
                 "Raw chunk size (default 64K); synthetic size or range A-B (default 512)")
      ->group(input)
      ->type_name("SIZE|A-B")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            if (programs::parse_size_range(text)) return "";
            if (text.find('-') == std::string::npos) return programs::explain_bad_size(text);
            return "'" + text + "' is not a size or a range of sizes (e.g. 512, 64-4K)";
          },
          ""));
  std::string rate_text;
  app.add_option("--rate", rate_text, "Synthetic records per second (50000), or bytes per second (200M)")
      ->group(input)
      ->type_name("N|SIZE")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            return programs::parse_rate(text) ? "" : "'" + text + "' is not a rate; write records/s (50000) or bytes/s (200M)";
          },
          ""));

  auto* stopping = "Stopping (each producer process)";
  std::uint64_t count = 0;
  programs::add_count_option(app, "--count", count, "Stop after N records (0: only create the ring)")->group(stopping);
  std::uint64_t byte_limit = 0;
  programs::add_size_option(app, "--bytes", byte_limit, "Stop once SIZE payload bytes are written")->group(stopping);
  std::chrono::nanoseconds duration{};
  programs::add_duration_option(app, "--duration", duration, "Stop after this long")->group(stopping);

  auto* running = "Processes and output";
  std::uint64_t procs = 1;
  app.add_option_function<std::string>(
         "--procs", [&procs](const std::string& text) { procs = programs::parse_count(text).value_or(0); },
         "Producer processes per ring (synthetic only; default 1)")
      ->group(running)
      ->type_name("N")
      // Not add_count_option's check, whose "0 or more" was wrong here (found by a tester).
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            const std::optional<std::uint64_t> processes = programs::parse_count(text);
            if (processes && *processes >= 1 && *processes <= format::kProducerSlotCount) return {};
            return "'" + text + "' is not a number of producer processes, 1 to " +
                   std::to_string(format::kProducerSlotCount);
          },
          ""));
  std::string sync_text = "none";
  app.add_option("--sync", sync_text,
                 "What survives a power cut: none (default; every process crash is survived anyway), "
                 "interval:T (fdatasync every T), bytes:SIZE (flush after every SIZE written)")
      ->group(running)
      ->type_name("none|interval:T|bytes:SIZE")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            return parse_sync_policy(text) ? "" : "'" + text + "' is not none, interval:T (e.g. interval:1s) or bytes:SIZE (e.g. bytes:64M)";
          },
          ""));
  app.add_flag("--quiet", settings.quiet, "No progress and no summary line on stderr")->group(running);
  app.add_flag("--json", settings.json,
               "Print the summary as one JSON object on stdout: records, bytes, seconds, idle_seconds, "
               "waiting_seconds, records_per_s, bytes_per_s, backpressure_seconds, processes, exit_code")
      ->group(running);

  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;

  settings.paths.assign(paths.begin(), paths.end());
  settings.procs_per_ring = static_cast<unsigned>(procs);  // 1 to kProducerSlotCount: --procs' check
  if (app.get_option("--policy")->count() > 0) {
    settings.policy = policy == 0 ? WriterPolicy::block : WriterPolicy::overwrite;
  }
  if (app.get_option("--max-record")->count() > 0) settings.max_record_bytes = max_record;
  if (app.get_option("--paging")->count() > 0) settings.paging = kPagingChoices[paging];
  if (!hold_window_text.empty()) settings.hold_window_bytes = *parse_hold_window(hold_window_text);
  if (app.get_option("--consumer-grace")->count() > 0) {
    settings.consumer_grace = std::chrono::duration_cast<std::chrono::milliseconds>(consumer_grace);
    if (*settings.consumer_grace < std::chrono::milliseconds(1) ||
        *settings.consumer_grace > std::chrono::milliseconds(0xffffffffLL)) {
      throw UsageError("--consumer-grace must be between 1ms and 49 days");
    }
  }
  settings.sync = *parse_sync_policy(sync_text);
  if (app.get_option("--mode")->count() > 0) settings.file_mode = *programs::parse_file_mode(mode_text);
  settings.format = static_cast<programs::RecordFormat>(format);
  const std::uint64_t default_record_bytes =
      settings.synthetic ? kDefaultSyntheticRecordBytes : kDefaultRawRecordBytes;
  settings.record_size = record_size_text.empty() ? programs::SizeRange{default_record_bytes, default_record_bytes}
                                                  : *programs::parse_size_range(record_size_text);
  if (!rate_text.empty()) settings.rate = programs::parse_rate(rate_text);
  if (app.get_option("--count")->count() > 0) settings.count = count;
  if (app.get_option("--bytes")->count() > 0) settings.byte_limit = byte_limit;
  if (app.get_option("--duration")->count() > 0) settings.duration = duration;
  check_consistency(settings, app);
  return settings;
}

}  // namespace ringfile::producer
