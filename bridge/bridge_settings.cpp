#include "bridge_settings.hpp"

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/start_point.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge {
namespace {

using programs::UsageError;

constexpr std::size_t kConsumerNameLimit = 31;  // ConsumerOptions::name

std::vector<std::string> split_urls(const std::string& text) {
  std::vector<std::string> urls;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    urls.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) return urls;
    start = comma + 1;
  }
}

std::chrono::milliseconds to_milliseconds(std::chrono::nanoseconds duration) {
  return std::max(std::chrono::milliseconds(1), std::chrono::duration_cast<std::chrono::milliseconds>(duration));
}

// The options both directions share, bound to `stream`; the durations and the URL text are
// converted after parsing.
struct SharedOptions {
  std::string urls;
  std::int64_t replicas = 0;
  std::uint64_t max_bytes = 0;
  std::chrono::nanoseconds request_timeout{std::chrono::seconds(5)};
  std::uint64_t count = 0;
  std::chrono::nanoseconds duration{};
  std::chrono::nanoseconds until_idle{};
};

void add_stream_options(CLI::App& command, StreamSettings& stream, SharedOptions& shared, bool subject_required) {
  auto* group = "JetStream";
  command.add_option("--nats", shared.urls, "NATS server URLs, comma-separated (nats://host:4222,...)")
      ->required()
      ->group(group)
      ->type_name("URL[,URL...]")
      ->check(CLI::Validator(
          [](const std::string& text) -> std::string {
            for (const auto& url : split_urls(text)) {
              if (auto problem = url_problem(url)) return *problem;
            }
            return {};
          },
          ""));
  command.add_option("--stream", stream.stream,
                     subject_required ? "JetStream stream; created when absent, checked when present"
                                      : "JetStream stream; created when absent if --subject is given, checked "
                                        "when present")
      ->required()
      ->group(group)
      ->type_name("NAME")
      ->check(CLI::Validator([](const std::string& text) { return name_problem(text).value_or(""); }, ""));
  auto* subject = command.add_option("--subject", stream.subject,
                                     subject_required ? "Subject the records are published on (no wildcards)"
                                                      : "Only messages on this subject (wildcards allowed; "
                                                        "default: all of the stream)");
  subject->group(group)->type_name("SUBJECT")->check(CLI::Validator(
      [subject_required](const std::string& text) { return subject_problem(text, !subject_required).value_or(""); },
      ""));
  if (subject_required) subject->required();
  command.add_option("--replicas", shared.replicas, "Replicas of the stream when created (1-5); checked when present")
      ->group(group)
      ->type_name("N")
      ->check(CLI::Range(1, 5).description(""));
  programs::add_size_option(command, "--max-bytes", shared.max_bytes,
                            "Stream size limit when created (oldest messages go first); checked when present")
      ->group(group);
  programs::add_duration_option(command, "--request-timeout", shared.request_timeout,
                                "How long to wait for an answer to a JetStream request (default 5s)")
      ->group(group);
}

void add_stop_and_report_options(CLI::App& command, SharedOptions& shared, ReportSettings& report,
                                 const std::string& count_meaning) {
  auto* stopping = "Stopping";
  programs::add_count_option(command, "--count", shared.count, "Stop after N records " + count_meaning)
      ->group(stopping);
  programs::add_duration_option(command, "--duration", shared.duration, "Stop after this long")->group(stopping);
  programs::add_duration_option(command, "--until-idle", shared.until_idle,
                                "Stop when nothing new arrived for this long and all is acknowledged")
      ->group(stopping);
  auto* reporting = "Reporting";
  command.add_flag("--quiet", report.quiet, "No progress and no summary line on stderr")->group(reporting);
  command.add_flag("--json", report.json,
                   "Print the summary as one JSON object on stdout (records, bytes, in_flight, acknowledged, "
                   "retries, remote_lag, ...)")
      ->group(reporting);
}

void apply_shared(const CLI::App& command, const SharedOptions& shared, StreamSettings& stream, StopSettings& stop) {
  const auto given = [&](const char* name) { return command.get_option(name)->count() > 0; };
  stream.urls = split_urls(shared.urls);
  if (given("--replicas")) stream.replicas = shared.replicas;
  if (given("--max-bytes")) {
    if (shared.max_bytes == 0) throw UsageError("--max-bytes must be more than 0 (omit it for no limit)");
    stream.max_bytes = shared.max_bytes;
  }
  stream.request_timeout = to_milliseconds(shared.request_timeout);
  if (given("--count")) stop.count = shared.count;
  if (given("--duration")) stop.duration = shared.duration;
  if (given("--until-idle")) stop.until_idle = shared.until_idle;
}

}  // namespace

std::optional<std::string> url_problem(const std::string& url) {
  std::string_view rest = url;
  if (rest.empty()) return "an empty server URL (write nats://host:4222)";
  if (const auto scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme != "nats" && scheme != "tls") {
      return "'" + url + "': unknown scheme '" + std::string(scheme) + "' (use nats:// or tls://)";
    }
    rest.remove_prefix(scheme_end + 3);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
  const auto colon = rest.rfind(':');
  const std::string_view host = rest.substr(0, colon);
  if (host.empty() || host.find_first_of("/ ?#") != std::string_view::npos) {
    return "'" + url + "' is not a server URL (write nats://host:4222)";
  }
  if (colon != std::string_view::npos) {
    const std::string port_text(rest.substr(colon + 1));
    const auto port = programs::parse_count(port_text);
    if (!port || *port == 0 || *port > 65535) return "'" + url + "': '" + port_text + "' is not a port";
  }
  return std::nullopt;
}

std::optional<std::string> name_problem(const std::string& name) {
  if (name.empty()) return std::string("an empty name");
  for (const char character : name) {
    if (character == '.' || character == '*' || character == '>' || character == '/' || character == '\\' ||
        static_cast<unsigned char>(character) <= ' ') {
      return "'" + name + "' is not a JetStream name (no spaces, dots, slashes or wildcards)";
    }
  }
  return std::nullopt;
}

std::optional<std::string> subject_problem(const std::string& subject, bool wildcards_allowed) {
  const std::string problem = "'" + subject + "' is not a NATS subject";
  if (subject.empty()) return problem + " (it is empty)";
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = subject.find('.', start);
    const std::string token = subject.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (token.empty()) return problem + " (an empty token between dots)";
    for (const char character : token) {
      if (static_cast<unsigned char>(character) <= ' ') return problem + " (no spaces)";
    }
    if (token.find_first_of("*>") != std::string::npos) {
      if (!wildcards_allowed) return problem + " to publish on (no wildcards)";
      if (token.size() != 1 || (token == ">" && dot != std::string::npos)) return problem + " (misplaced wildcard)";
    }
    if (dot == std::string::npos) return std::nullopt;
    start = dot + 1;
  }
}

std::variant<BridgeSettings, int> parse_bridge_settings(int argc, char** argv) {
  CLI::App app{
      "Forwards records between a ring file and a NATS JetStream stream, exactly once.\n"
      "  out: a named consumer of the ring publishes every record to the stream.\n"
      "  in:  a durable pull consumer of the stream appends every message to a ring.\n"
      "Sizes: 512K 64M 8G; durations: 500ms 30s 5m. Exit status: 0 success, 1 runtime failure,\n"
      "2 bad usage.",
      "ringfile-bridge"};
  app.require_subcommand(1);

  OutSettings out;
  SharedOptions out_shared;
  CLI::App* out_command = app.add_subcommand(
      "out", "Publish every record of RING to the stream; resume after the last one stored on restart");
  std::string out_ring;
  out_command->add_option("RING", out_ring, "Ring file to read")->required()->type_name("");
  add_stream_options(*out_command, out.stream, out_shared, true);
  auto* reading = "Reading the ring";
  out_command->add_option("--name", out.name, "Name of the bridge's consumer in the ring (default: bridge-STREAM)")
      ->type_name("NAME")
      ->group(reading);
  std::string from = "committed";
  out_command
      ->add_option("--from", from,
                   "Where to start, as ringfile-consumer --from: earliest|latest|committed|POSITION|-N|TIME "
                   "(default: committed, the saved cursor, latest for a new name; the others start there at "
                   "every run)")
      ->group(reading)
      ->type_name("WHERE")
      ->check(programs::start_point_validator(true));
  out_command->add_option("--max-in-flight", out.max_in_flight, "Records published and not yet acknowledged (1 to 1048576, default 4096)")
      ->group(reading)
      ->type_name("N")
      ->check(CLI::Range(1u, 1u << 20).description(""));
  programs::add_size_option(*out_command, "--max-in-flight-bytes", out.max_in_flight_bytes,
                            "Their payload bytes (default 64M)")
      ->group(reading);
  std::chrono::nanoseconds ack_timeout = std::chrono::seconds(5);
  programs::add_duration_option(*out_command, "--ack-timeout", ack_timeout,
                                "A publish not acknowledged this long is sent again (default 5s)")
      ->group(reading);
  add_stop_and_report_options(*out_command, out_shared, out.report, "acknowledged");

  InSettings in;
  SharedOptions in_shared;
  CLI::App* in_command = app.add_subcommand(
      "in", "Append every message of the stream to RING through a durable consumer; acknowledge what is committed");
  std::string in_ring;
  in_command->add_option("RING", in_ring, "Ring file to write")->required()->type_name("");
  add_stream_options(*in_command, in.stream, in_shared, false);
  auto* consuming = "Consuming the stream";
  in_command->add_option("--durable", in.durable, "Name of the durable JetStream consumer (one bridge per name)")
      ->type_name("NAME")
      ->required()
      ->group(consuming)
      ->check(CLI::Validator([](const std::string& text) { return name_problem(text).value_or(""); }, ""));
  in_command->add_option("--batch", in.batch, "Messages per fetch (1 to 100000, default 256)")
      ->group(consuming)
      ->type_name("N")
      ->check(CLI::Range(1u, 100000u).description(""));
  std::chrono::nanoseconds ack_wait = std::chrono::seconds(30);
  programs::add_duration_option(*in_command, "--ack-wait", ack_wait,
                                "The durable's redelivery timeout, when it is created (default 30s)")
      ->group(consuming);
  std::string state_file;
  in_command
      ->add_option("--state", state_file,
                   "File that remembers the last stream message written (default: RING.DURABLE.bridge-in)")
      ->group(consuming)
      ->type_name("FILE");
  auto* creating = "Creating the ring";
  in_command->add_flag("--create", in.create, "Create RING if it is absent (with --size)")->group(creating);
  programs::add_size_option(*in_command, "--size", in.size_bytes, "Capacity of a created ring")->group(creating);
  int policy = 0;
  programs::add_choice_option(*in_command, "--policy", policy, {"block", "overwrite"},
                              "Writer policy of a created ring (default block: a full ring slows the stream)")
      ->group(creating);
  std::uint64_t max_record = 0;
  programs::add_size_option(*in_command, "--max-record", max_record, "Largest record of a created ring")->group(creating);
  add_stop_and_report_options(*in_command, in_shared, in.report, "written");

  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;

  if (out_command->parsed()) {
    out.ring = out_ring;
    apply_shared(*out_command, out_shared, out.stream, out.stop);
    const programs::StartPoint start = *programs::parse_start_point(from);
    if (start.word) out.start = *start.word;
    out.seek = start.seek;
    out.ack_timeout = to_milliseconds(ack_timeout);
    if (out.name.empty()) out.name = "bridge-" + out.stream.stream;
    if (out.name.size() > kConsumerNameLimit) {
      throw UsageError("the consumer name '" + out.name + "' is longer than " + std::to_string(kConsumerNameLimit) +
                       " bytes; choose a shorter one with --name");
    }
    if (out.max_in_flight_bytes == 0) throw UsageError("--max-in-flight-bytes must be more than 0");
    return BridgeSettings{out};
  }

  in.ring = in_ring;
  apply_shared(*in_command, in_shared, in.stream, in.stop);
  in.ack_wait = to_milliseconds(ack_wait);
  const auto given = [&](const char* name) { return in_command->get_option(name)->count() > 0; };
  for (const char* creation_option : {"--size", "--policy", "--max-record"}) {
    if (given(creation_option) && !in.create) {
      throw UsageError(std::string(creation_option) + " only applies when creating a ring; add --create");
    }
  }
  if (in.create && !given("--size")) throw UsageError("--create needs the ring's capacity; add --size (e.g. --size 1G)");
  if (given("--policy")) in.policy = policy == 0 ? WriterPolicy::block : WriterPolicy::overwrite;
  if (given("--max-record")) in.max_record_bytes = max_record;
  in.state_file = state_file.empty() ? std::filesystem::path(in_ring + "." + in.durable + ".bridge-in")
                                     : std::filesystem::path(state_file);
  return BridgeSettings{in};
}

}  // namespace ringfile::bridge
