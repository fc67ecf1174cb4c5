// ringfile-bench-bridge: records/s and MB/s of ringfile-bridge, ring -> JetStream (`out`) and
// JetStream -> ring (`in`), against a plain asynchronous publisher and a plain pull consumer
// written with the same client (nats.c), in the same run, on the same 3-node cluster of
// nats-server processes it starts on 127.0.0.1. See bench/README.md.
//
// For each stream replication (--replicas) and record size (--sizes):
//   plain publisher   js_PublishAsync of N payloads until every one is acknowledged, at most as
//                     many unacknowledged as the bridge may have (--max-in-flight records, and no
//                     more than --max-in-flight-bytes of them; both passed to the bridge)
//   bridge out        `ringfile-bridge out --count N` over a ring prefilled with N records
//   plain consumer    a durable pull consumer fetching batches of 256, one ack-all per batch
//                     (as the bridge does), payloads dropped
//   bridge in         `ringfile-bridge in --count N` into a fresh ring
// The bridge's figures are its own (--json: from its start, connection included, to the last
// acknowledgement); the baselines time from their first request to their last acknowledgement.
#include <fcntl.h>
#include <nats/nats.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/system/errno_text.hpp"
#include "support/byte_size.hpp"
#include "support/machine_info.hpp"
#include "support/nats_cluster.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using namespace ringfile::bench;
using ringfile::programs::RuntimeFailure;
using ringfile::system::describe_errno;
namespace programs = ringfile::programs;
using Clock = std::chrono::steady_clock;

const std::string kBridge = RINGFILE_BRIDGE_BINARY;
const std::string kProducer = RINGFILE_PRODUCER_BINARY;

struct BridgeBenchOptions {
  std::vector<std::uint64_t> sizes{64, 64 << 10};
  std::vector<int> replicas{1, 3};
  std::uint64_t small_records = 300'000;   // for records under 4 KiB
  std::uint64_t large_records = 6'000;     // for the others
  std::uint64_t max_in_flight = 4096;
  std::uint64_t max_in_flight_bytes = 64 << 20;
  std::string directory = "/tmp";

  // Messages both publishers keep unacknowledged at most: the bridge counts its window in records
  // and in payload bytes, the plain client (nats.c's MaxPending) in messages only.
  std::uint64_t window_records(std::uint64_t record_bytes) const {
    return std::max<std::uint64_t>(1, std::min(max_in_flight, max_in_flight_bytes / record_bytes));
  }
};

struct Rate {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  double seconds = 0;
  double startup_seconds = 0;  // the bridge's: until its first record went through
  // Without start-up: the records after the first over the time after it.
  double steady_records_per_second() const {
    const double steady = seconds - startup_seconds;
    return records > 1 && steady > 0 ? static_cast<double>(records - 1) / steady : 0;
  }
  double records_per_second() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
  double megabytes_per_second() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
};

void check(natsStatus status, const std::string& what) {
  if (status != NATS_OK) throw RuntimeFailure(what + ": " + natsStatus_GetText(status) + " " + nats_GetLastError(nullptr));
}

// A client of the benchmark's own, for the baselines.
class Client {
 public:
  Client(const std::string& url, std::int64_t max_pending) {
    natsOptions* options = nullptr;
    check(natsOptions_Create(&options), "nats options");
    check(natsOptions_SetURL(options, url.c_str()), "nats url");
    check(natsConnection_Connect(&connection_, options), "connecting to " + url);
    natsOptions_Destroy(options);
    jsOptions js_options;
    jsOptions_Init(&js_options);
    js_options.PublishAsync.MaxPending = max_pending;
    // With the window full, a publish waits for room this long (the client's default, 200 ms,
    // fails the run when a loaded machine is slow to acknowledge with three replicas).
    js_options.PublishAsync.StallWait = 60000;
    js_options.Wait = 10000;
    check(natsConnection_JetStream(&jetstream_, connection_, &js_options), "JetStream context");
  }
  ~Client() {
    jsCtx_Destroy(jetstream_);
    natsConnection_Destroy(connection_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  jsCtx* jetstream() const { return jetstream_; }

  // A baseline counts only if JetStream stored every message it sent (an asynchronous publish that
  // was refused would only make it look faster).
  void check_stored(const std::string& stream, std::uint64_t records) {
    jsStreamInfo* info = nullptr;
    check(js_GetStreamInfo(&info, jetstream_, stream.c_str(), nullptr, nullptr), "reading stream " + stream);
    const std::uint64_t stored = info->State.Msgs;
    jsStreamInfo_Destroy(info);
    if (stored != records) {
      throw RuntimeFailure("stream " + stream + " holds " + std::to_string(stored) + " of the " + std::to_string(records) +
                           " messages its publisher sent");
    }
  }

  void create_stream(const std::string& name, const std::string& subject, int replicas) {
    jsStreamConfig config;
    jsStreamConfig_Init(&config);
    config.Name = name.c_str();
    const char* subjects[] = {subject.c_str()};
    config.Subjects = subjects;
    config.SubjectsLen = 1;
    config.Replicas = replicas;
    jsStreamInfo* info = nullptr;
    check(js_AddStream(&info, jetstream_, &config, nullptr, nullptr), "creating stream " + name);
    jsStreamInfo_Destroy(info);
  }

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
};

Rate plain_publish(Client& client, const std::string& subject, std::uint64_t records, std::size_t size) {
  const std::string payload(size, 'p');
  const Clock::time_point start = Clock::now();
  for (std::uint64_t index = 0; index < records; ++index) {
    check(js_PublishAsync(client.jetstream(), subject.c_str(), payload.data(), static_cast<int>(size), nullptr),
          "publishing");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60000;
  check(js_PublishAsyncComplete(client.jetstream(), &wait), "waiting for acknowledgements");
  return {records, records * size, std::chrono::duration<double>(Clock::now() - start).count()};
}

// The plain publisher sending what the bridge sends: an origin header per message (a ring identity
// and a position) and the expected-last-sequence chain, so that the ratio against it is the
// bridge's own cost (reading the ring, its bookkeeping) and not the per-message work of headers
// and expectations, which the server does for both.
Rate plain_publish_with_headers(Client& client, const std::string& subject, std::uint64_t records, std::size_t size) {
  const std::string payload(size, 'p');
  const std::string identity = "0123456789abcdef";
  const Clock::time_point start = Clock::now();
  for (std::uint64_t index = 0; index < records; ++index) {
    const std::uint64_t position = index * (size + 40);
    const std::string origin = identity + ":" + std::to_string(position);
    natsMsg* message = nullptr;
    check(natsMsg_Create(&message, subject.c_str(), nullptr, payload.data(), static_cast<int>(size)), "message");
    check(natsMsgHeader_Set(message, "Ringfile-Origin", origin.c_str()), "header");
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.ExpectLastSeq = index;  // the stream is new: message i lands at sequence i + 1 (0: no expectation)
    check(js_PublishMsgAsync(client.jetstream(), &message, &options), "publishing");
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60000;
  check(js_PublishAsyncComplete(client.jetstream(), &wait), "waiting for acknowledgements");
  return {records, records * size, std::chrono::duration<double>(Clock::now() - start).count()};
}

Rate plain_consume(Client& client, const std::string& stream, std::uint64_t records) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = "plain";
  config.AckPolicy = js_AckAll;
  config.MaxAckPending = 4096;
  jsConsumerInfo* info = nullptr;
  check(js_AddConsumer(&info, client.jetstream(), stream.c_str(), &config, nullptr, nullptr), "creating consumer");
  jsConsumerInfo_Destroy(info);
  jsSubOptions subscribe;
  jsSubOptions_Init(&subscribe);
  subscribe.Stream = stream.c_str();
  subscribe.Consumer = "plain";
  natsSubscription* subscription = nullptr;
  check(js_PullSubscribe(&subscription, client.jetstream(), "", "plain", nullptr, &subscribe, nullptr), "subscribing");
  std::uint64_t received = 0;
  std::uint64_t bytes = 0;
  const Clock::time_point start = Clock::now();
  while (received < records) {
    natsMsgList list{};
    const natsStatus status = natsSubscription_Fetch(&list, subscription, 256, 1000, nullptr);
    if (status == NATS_TIMEOUT) continue;
    check(status, "fetching");
    for (int index = 0; index < list.Count; ++index) bytes += static_cast<std::uint64_t>(natsMsg_GetDataLength(list.Msgs[index]));
    received += static_cast<std::uint64_t>(list.Count);
    natsMsg_Ack(list.Msgs[list.Count - 1], nullptr);
    natsMsgList_Destroy(&list);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  natsSubscription_Destroy(subscription);
  return {received, bytes, seconds};
}

// Runs a program to its end with stdout in `output`; throws unless it exits 0.
void run_program(const std::vector<std::string>& args, const fs::path& output) {
  std::vector<char*> argv;
  std::vector<std::string> words = args;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) throw RuntimeFailure(describe_errno("starting " + args[0], spawned));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw RuntimeFailure(args[0] + " " + args[1] + " failed");
}

// Writes out what earlier phases left dirty (the servers' stores, the prefilled ring), so that
// each timed phase starts from the same state instead of the later ones paying for the writeback
// of the earlier ones: with 64 KiB records a phase writes about 1.2 GB (three replicas).
void settle_page_cache() { ::sync(); }

// The fields the bridge's --json summary has: records, bytes, seconds.
Rate bridge_rate(const fs::path& json_file) {
  std::ifstream file(json_file);
  std::stringstream text;
  text << file.rdbuf();
  const std::string json = text.str();
  const auto number = [&](const std::string& key) {
    const auto at = json.find("\"" + key + "\":");
    if (at == std::string::npos) throw RuntimeFailure("no " + key + " in the bridge's summary: " + json);
    return std::stod(json.substr(at + key.size() + 3));
  };
  Rate rate{static_cast<std::uint64_t>(number("records")), static_cast<std::uint64_t>(number("bytes")), number("seconds")};
  rate.startup_seconds = number("startup_seconds");
  return rate;
}

// One row: the bare plain client, the plain client with the bridge's headers (same messages),
// the bridge whole and without its start-up; ratios of the bridge's steady rate to both.
void print_row(const char* direction, const std::string& replicas, std::uint64_t size, const Rate& plain,
               const Rate& plain_headers, const Rate& bridge) {
  const auto ratio = [](double numerator, double denominator) { return denominator > 0 ? numerator / denominator : 0; };
  std::printf("%-16s %8s %8s %11.0f %11.0f %11.0f %11.0f %8.2f %9.1f %6.2f %6.2f %6.2f\n", direction, replicas.c_str(),
              format_byte_size(size).c_str(), plain.records_per_second(), plain_headers.records_per_second(),
              bridge.records_per_second(), bridge.steady_records_per_second(), bridge.startup_seconds,
              bridge.megabytes_per_second(), ratio(bridge.records_per_second(), plain.records_per_second()),
              ratio(bridge.steady_records_per_second(), plain.records_per_second()),
              ratio(bridge.steady_records_per_second(), plain_headers.records_per_second()));
  std::fflush(stdout);
}

int run(int argc, char** argv) {
  BridgeBenchOptions options;
  CLI::App app("ringfile-bridge out and in against a plain nats.c publisher and pull consumer, on a\n"
               "3-node JetStream cluster started on 127.0.0.1 for the run",
               "ringfile-bench-bridge");
  programs::add_size_list_option(app, "--sizes", options.sizes, "record sizes")->default_str("64,64K");
  app.add_option("--replicas", options.replicas, "stream replications")
      ->delimiter(',')
      ->check(CLI::Range(1, 5))
      ->default_str("1,3");
  programs::add_count_option(app, "--small-records", options.small_records, "records per run for sizes under 4 KiB")
      ->default_str("300000");
  programs::add_count_option(app, "--large-records", options.large_records, "records per run for larger sizes")
      ->default_str("6000");
  programs::add_count_option(app, "--max-in-flight", options.max_in_flight,
                             "unacknowledged publishes, the bridge's and the plain publisher's")
      ->default_str("4096");
  programs::add_size_option(app, "--max-in-flight-bytes", options.max_in_flight_bytes,
                            "unacknowledged payload bytes, the bridge's and (as a count of messages of the size) the plain "
                            "publisher's")
      ->default_str("64M");
  app.add_option("--dir", options.directory, "where the rings and the servers' stores go")->capture_default_str();
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return *exit_code;
  for (const std::uint64_t size : options.sizes) {
    if (size == 0) throw programs::UsageError("--sizes: a record size must be at least 1 byte");
  }

  const auto server = ringfile::bridge_test::find_nats_server();
  if (!server) throw RuntimeFailure("nats-server is not installed (apt-get install nats-server)");
  char pattern[] = "ringfile-bench-bridge-XXXXXX";
  const fs::path work = fs::path(options.directory) / pattern;
  std::string work_text = work.string();
  if (mkdtemp(work_text.data()) == nullptr) throw RuntimeFailure(describe_errno("mkdtemp in " + options.directory, errno));
  const fs::path dir = work_text;
  RunMachine machine = RunMachine::at_start();
  std::printf("%s, kernel %s, %d CPUs, load %s\n", machine.started_at_utc.c_str(), machine.kernel_release.c_str(),
              machine.online_cpus, machine.load_at_start.c_str());
  std::printf("%-16s %8s %8s %11s %11s %11s %11s %8s %9s %6s %6s %6s\n", "direction", "replicas", "record",
              "plain r/s", "plain+h r/s", "bridge r/s", "steady r/s", "start s", "bridge MB/s", "ratio", "steady",
              "vs +h");
  {
    ringfile::bridge_test::NatsCluster cluster(*server, dir, 3);
    int run_number = 0;
    for (const int replicas : options.replicas) {
      const std::string replicas_text = std::to_string(replicas);
      for (const std::uint64_t size : options.sizes) {
        const std::uint64_t records = size < 4096 ? options.small_records : options.large_records;
        const std::uint64_t window = options.window_records(size);
        Client client(cluster.url(0), static_cast<std::int64_t>(window));
        const std::string tag = std::to_string(++run_number);
        const std::string plain_stream = "PLAIN" + tag;
        const std::string bridge_stream = "BRIDGE" + tag;
        const std::string headers_stream = "HEADERS" + tag;
        client.create_stream(plain_stream, "plain." + tag, replicas);
        client.create_stream(headers_stream, "headers." + tag, replicas);
        client.create_stream(bridge_stream, "bridge." + tag, replicas);
        const std::string ring_size = std::to_string((records * (size + 48) / (1 << 20) + 16) * (1 << 20));

        settle_page_cache();
        const Rate plain_out = plain_publish(client, "plain." + tag, records, static_cast<std::size_t>(size));
        settle_page_cache();
        const Rate headers_out =
            plain_publish_with_headers(client, "headers." + tag, records, static_cast<std::size_t>(size));
        client.check_stored(plain_stream, records);
        client.check_stored(headers_stream, records);
        const fs::path near = dir / ("near" + tag + ".ring");
        run_program({kProducer, near.string(), "--create", "--size", ring_size, "--max-record", "1M", "--synthetic",
                     "--record-size", std::to_string(std::max<std::uint64_t>(size, 24)), "--count", std::to_string(records),
                     "--quiet"},
                    dir / "producer.json");
        settle_page_cache();
        run_program({kBridge, "out", near.string(), "--nats", cluster.urls(), "--stream", bridge_stream, "--subject",
                     "bridge." + tag, "--from", "earliest", "--count", std::to_string(records), "--max-in-flight",
                     std::to_string(window), "--max-in-flight-bytes", std::to_string(window * size), "--json", "--quiet"},
                    dir / "out.json");
        print_row("ring->JetStream", replicas_text, size, plain_out, headers_out, bridge_rate(dir / "out.json"));

        settle_page_cache();
        const Rate plain_in = plain_consume(client, plain_stream, records);
        settle_page_cache();
        const Rate headers_in = plain_consume(client, headers_stream, records);
        const fs::path far = dir / ("far" + tag + ".ring");
        settle_page_cache();
        run_program({kBridge, "in", far.string(), "--create", "--size", ring_size, "--max-record", "1M", "--nats",
                     cluster.urls(), "--stream", bridge_stream, "--durable", "far", "--count", std::to_string(records),
                     "--json", "--quiet"},
                    dir / "in.json");
        print_row("JetStream->ring", replicas_text, size, plain_in, headers_in, bridge_rate(dir / "in.json"));
        fs::remove(near);
        fs::remove(far);
      }
    }
  }
  fs::remove_all(dir);
  machine.finish();
  std::printf("load at the end: %s\n", machine.load_at_end.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return programs::run_guarded("ringfile-bench-bridge", [&] { return run(argc, argv); });
}
