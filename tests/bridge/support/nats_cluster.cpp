#include "support/nats_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace ringfile::bridge_test {
namespace {

// A short-lived client of the test's own, to ask JetStream about streams.
class Probe {
 public:
  explicit Probe(const std::vector<std::string>& urls) {
    natsOptions* options = nullptr;
    if (natsOptions_Create(&options) != NATS_OK) return;
    std::vector<const char*> servers;
    for (const auto& url : urls) servers.push_back(url.c_str());
    natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
    natsOptions_SetTimeout(options, 500);
    natsOptions_SetAllowReconnect(options, false);
    if (natsConnection_Connect(&connection_, options) == NATS_OK) {
      jsOptions js_options;
      jsOptions_Init(&js_options);
      js_options.Wait = 2000;
      if (natsConnection_JetStream(&jetstream_, connection_, &js_options) != NATS_OK) jetstream_ = nullptr;
    }
    natsOptions_Destroy(options);
  }
  ~Probe() {
    jsCtx_Destroy(jetstream_);
    natsConnection_Destroy(connection_);
  }
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  jsCtx* jetstream() const noexcept { return jetstream_; }

  std::unique_ptr<jsStreamInfo, void (*)(jsStreamInfo*)> stream_info(const std::string& stream) const {
    jsStreamInfo* info = nullptr;
    if (jetstream_ != nullptr) js_GetStreamInfo(&info, jetstream_, stream.c_str(), nullptr, nullptr);
    return {info, &jsStreamInfo_Destroy};
  }

 private:
  natsConnection* connection_ = nullptr;
  jsCtx* jetstream_ = nullptr;
};

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

}  // namespace

std::optional<std::string> find_nats_server() {
  if (const char* configured = std::getenv("RINGFILE_NATS_SERVER"); configured != nullptr && executable(configured)) {
    return std::string(configured);
  }
  std::string directories = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  directories += ":/usr/sbin:/usr/bin:/usr/local/bin:/usr/local/sbin";
  std::stringstream stream(directories);
  std::string directory;
  while (std::getline(stream, directory, ':')) {
    if (!directory.empty() && executable(directory + "/nats-server")) return directory + "/nats-server";
  }
  return std::nullopt;
}

std::vector<int> free_ports(std::size_t count) {
  // Every socket stays bound until all are chosen: a port released at once may come back from
  // the next bind, and two nodes given one port leave the second unable to listen.
  std::vector<int> sockets;
  std::vector<int> ports;
  const auto release = [&sockets] {
    for (const int fd : sockets) ::close(fd);
  };
  for (std::size_t index = 0; index < count; ++index) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      release();
      throw std::runtime_error("socket() failed");
    }
    sockets.push_back(fd);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      release();
      throw std::runtime_error("cannot find a free port on 127.0.0.1");
    }
    ports.push_back(ntohs(address.sin_port));
  }
  release();
  return ports;
}

int free_port() { return free_ports(1).front(); }

NatsCluster::NatsCluster(const std::string& server_binary, const std::filesystem::path& work_dir, int nodes,
                         const std::string& extra_config)
    : server_binary_(server_binary) {
  // Between choosing a port and a server's bind of it, another process (a test running beside
  // this one) may take it; that server then exits at once. A cluster with a node gone that way
  // starts again on new ports, with new stores.
  constexpr int kAttempts = 5;
  for (int attempt = 1;; ++attempt) {
    const std::vector<int> ports = free_ports(2 * static_cast<std::size_t>(nodes));
    nodes_.clear();
    for (int index = 0; index < nodes; ++index) {
      Node node;
      node.name = "n" + std::to_string(index);
      node.client_port = ports[2 * index];
      node.route_port = ports[2 * index + 1];
      node.config = work_dir / (node.name + ".conf");
      node.log = work_dir / (node.name + ".log");
      std::filesystem::remove(node.log);
      nodes_.push_back(node);
    }
    for (const Node& node : nodes_) {
      write_config(node, work_dir / ("store-" + node.name + "-" + std::to_string(attempt)), extra_config);
    }
    for (int index = 0; index < nodes; ++index) start(index);
    if (wait_for_jetstream()) return;
    const bool node_exited = std::any_of(nodes_.begin(), nodes_.end(), [](const Node& node) { return node.pid <= 0; });
    const std::string failure = "the NATS cluster did not come up (attempt " + std::to_string(attempt) + " of " +
                                std::to_string(kAttempts) + "); logs:\n" + logs();
    for (int index = 0; index < nodes; ++index) kill(index);
    if (!node_exited || attempt == kAttempts) throw std::runtime_error(failure);
  }
}

NatsCluster::~NatsCluster() {
  for (int index = 0; index < size(); ++index) kill(index);
}

void NatsCluster::write_config(const Node& node, const std::filesystem::path& store,
                               const std::string& extra_config) const {
  std::ofstream config(node.config);
  config << "server_name: " << node.name << "\n"
         << "listen: 127.0.0.1:" << node.client_port << "\n"
         << "max_payload: 2097152\n"
         << "jetstream {\n  store_dir: \"" << store.string() << "\"\n  max_memory_store: 64MB\n"
         << "  max_file_store: 4GB\n}\n";
  if (nodes_.size() > 1) {
    config << "cluster {\n  name: ringfile-test\n  listen: 127.0.0.1:" << node.route_port << "\n  routes: [\n";
    for (const Node& other : nodes_) config << "    nats-route://127.0.0.1:" << other.route_port << "\n";
    config << "  ]\n}\n";
  }
  config << extra_config << "\n";
  if (!config) throw std::runtime_error("cannot write " + node.config.string());
}

void NatsCluster::start(int index) {
  Node& node = nodes_[index];
  if (node.pid > 0) return;
  // Everything the child needs is prepared before fork: only async-signal-safe calls after it.
  const std::string binary = server_binary_;
  const std::string config = node.config.string();
  const std::string log = node.log.string();
  const char* argv[] = {binary.c_str(), "-c", config.c_str(), nullptr};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(126);  // the test died before prctl
    const int null_fd = ::open("/dev/null", O_RDONLY);
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (null_fd < 0 || log_fd < 0) ::_exit(126);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::execv(binary.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  node.pid = pid;
}

void NatsCluster::kill(int index) {
  Node& node = nodes_[index];
  if (node.pid <= 0) return;
  ::kill(node.pid, SIGKILL);
  int status = 0;
  while (::waitpid(node.pid, &status, 0) < 0 && errno == EINTR) {
  }
  node.pid = -1;
}

bool NatsCluster::reap_exited_nodes() {
  bool exited = false;
  for (Node& node : nodes_) {
    int status = 0;
    if (node.pid > 0 && ::waitpid(node.pid, &status, WNOHANG) == node.pid) {
      node.pid = -1;
      exited = true;
    }
  }
  return exited;
}

void NatsCluster::pause(int index) const {
  if (nodes_[index].pid > 0) ::kill(nodes_[index].pid, SIGSTOP);
}

void NatsCluster::resume(int index) const {
  if (nodes_[index].pid > 0) ::kill(nodes_[index].pid, SIGCONT);
}

std::string NatsCluster::url(int index) const {
  return "nats://127.0.0.1:" + std::to_string(nodes_[index].client_port);
}

std::string NatsCluster::urls() const {
  std::string text;
  for (int index = 0; index < size(); ++index) text += (text.empty() ? "" : ",") + url(index);
  return text;
}

bool NatsCluster::wait_for_jetstream(std::chrono::milliseconds timeout) {
  std::vector<std::string> running_urls;
  for (int index = 0; index < size(); ++index) {
    if (running(index)) running_urls.push_back(url(index));
  }
  const int replicas = static_cast<int>(running_urls.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (reap_exited_nodes()) return false;  // a node that should answer is gone
    // Ready when a stream with a replica on every running node can be created (the metadata
    // leader is elected and knows every peer).
    Probe probe(running_urls);
    if (probe.jetstream() != nullptr) {
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      config.Name = "READINESS_PROBE";
      const char* subjects[] = {"readiness.probe"};
      config.Subjects = subjects;
      config.SubjectsLen = 1;
      config.Replicas = replicas;
      config.Storage = js_MemoryStorage;
      jsStreamInfo* info = nullptr;
      if (js_AddStream(&info, probe.jetstream(), &config, nullptr, nullptr) == NATS_OK) {
        jsStreamInfo_Destroy(info);
        js_DeleteStream(probe.jetstream(), "READINESS_PROBE", nullptr, nullptr);
        return true;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::optional<std::uint64_t> NatsCluster::stream_messages(const std::string& stream) const {
  Probe probe(all_urls());
  const auto info = probe.stream_info(stream);
  if (!info) return std::nullopt;
  return info->State.Msgs;
}

std::vector<std::string> NatsCluster::all_urls() const {
  std::vector<std::string> all;
  for (int index = 0; index < size(); ++index) all.push_back(url(index));
  return all;
}

bool NatsCluster::publish(const std::string& subject, const std::string& payload,
                          const std::vector<std::pair<std::string, std::string>>& headers) const {
  Probe probe(all_urls());
  if (probe.jetstream() == nullptr) return false;
  natsMsg* message = nullptr;
  if (natsMsg_Create(&message, subject.c_str(), nullptr, payload.data(), static_cast<int>(payload.size())) != NATS_OK) {
    return false;
  }
  bool stored = true;
  for (const auto& [key, value] : headers) {
    stored = stored && natsMsgHeader_Set(message, key.c_str(), value.c_str()) == NATS_OK;
  }
  jsPubAck* ack = nullptr;
  stored = stored && js_PublishMsg(&ack, probe.jetstream(), message, nullptr, nullptr) == NATS_OK;
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(message);
  return stored;
}

bool NatsCluster::delete_stream(const std::string& stream) const {
  Probe probe(all_urls());
  return probe.jetstream() != nullptr && js_DeleteStream(probe.jetstream(), stream.c_str(), nullptr, nullptr) == NATS_OK;
}

bool NatsCluster::create_stream(const std::string& stream, const std::string& subject, int replicas,
                                std::chrono::milliseconds duplicate_window,
                                std::optional<std::int64_t> max_messages) const {
  Probe probe(all_urls());
  if (probe.jetstream() == nullptr) return false;
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream.c_str();
  const char* subjects[] = {subject.c_str()};
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Replicas = replicas;
  config.Duplicates = std::chrono::duration_cast<std::chrono::nanoseconds>(duplicate_window).count();
  if (max_messages) {
    config.MaxMsgs = *max_messages;
    config.Discard = js_DiscardNew;
  }
  jsStreamInfo* info = nullptr;
  const bool created = js_AddStream(&info, probe.jetstream(), &config, nullptr, nullptr) == NATS_OK;
  jsStreamInfo_Destroy(info);
  return created;
}

std::optional<int> NatsCluster::stream_leader(const std::string& stream) const {
  Probe probe(all_urls());
  const auto info = probe.stream_info(stream);
  if (!info || info->Cluster == nullptr || info->Cluster->Leader == nullptr) return std::nullopt;
  for (int index = 0; index < size(); ++index) {
    if (nodes_[index].name == info->Cluster->Leader) return index;
  }
  return std::nullopt;
}

bool NatsCluster::stream_replicas_current(const std::string& stream) const {
  Probe probe(all_urls());
  const auto info = probe.stream_info(stream);
  if (!info || info->Cluster == nullptr || info->Cluster->Leader == nullptr) return false;
  if (info->Cluster->ReplicasLen != static_cast<int>(info->Config->Replicas) - 1) return false;
  for (int index = 0; index < info->Cluster->ReplicasLen; ++index) {
    const jsPeerInfo* peer = info->Cluster->Replicas[index];
    if (!peer->Current || peer->Offline) return false;
  }
  return true;
}

std::string NatsCluster::logs() const {
  std::string text;
  for (const Node& node : nodes_) {
    std::ifstream file(node.log);
    std::stringstream contents;
    contents << file.rdbuf();
    std::string log = contents.str();
    if (log.size() > 4000) log = "..." + log.substr(log.size() - 4000);
    text += "--- " + node.name + " ---\n" + log;
  }
  return text;
}

}  // namespace ringfile::bridge_test
