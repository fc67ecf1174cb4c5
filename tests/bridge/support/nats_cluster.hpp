// A real JetStream cluster for the bridge's tests: nats-server processes on 127.0.0.1 only, on
// ports free at run time, each with its own store under the test's work directory. Nodes can be
// killed and started again (same ports, same store). Every server is killed when the cluster is
// destroyed, and also if the test process dies (PR_SET_PDEATHSIG).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ringfile::bridge_test {

// The nats-server binary, or nullopt where it is not installed (the tests then skip).
std::optional<std::string> find_nats_server();

// Ports nothing listens on at the moment, all different (bound to 127.0.0.1:0, then released).
std::vector<int> free_ports(std::size_t count);
int free_port();

class NatsCluster {
 public:
  // Starts `nodes` servers (clustered when more than one) and waits until JetStream answers.
  // `extra_config` is added to each server's configuration (users and permissions, say).
  NatsCluster(const std::string& server_binary, const std::filesystem::path& work_dir, int nodes = 3,
              const std::string& extra_config = "");
  ~NatsCluster();
  NatsCluster(const NatsCluster&) = delete;
  NatsCluster& operator=(const NatsCluster&) = delete;

  int size() const noexcept { return static_cast<int>(nodes_.size()); }
  // "nats://127.0.0.1:P1,nats://127.0.0.1:P2,..." for --nats.
  std::string urls() const;
  std::string url(int node) const;

  void kill(int node);
  void start(int node);
  // SIGSTOP / SIGCONT: the node stays up but answers nothing, as behind a network partition.
  void pause(int node) const;
  void resume(int node) const;
  bool running(int node) const noexcept { return nodes_[node].pid > 0; }

  // Waits until JetStream answers API requests (a metadata leader is elected). False on timeout,
  // or at once when a node that was running has exited.
  bool wait_for_jetstream(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Through a client of the test's own: the stream's message count, its leader's node index,
  // whether every replica of it is current. nullopt while JetStream cannot say.
  std::optional<std::uint64_t> stream_messages(const std::string& stream) const;
  // Creates a stream as an operator would, with a duplicate window of its own (JetStream forgets
  // message ids older than that), and with `max_messages`, a stream that refuses new messages
  // once it holds that many (discard new). False if JetStream refuses.
  bool create_stream(const std::string& stream, const std::string& subject, int replicas,
                     std::chrono::milliseconds duplicate_window, std::optional<std::int64_t> max_messages = {}) const;
  // Publishes a message as any client allowed on the subject may (headers included) and waits for
  // JetStream to store it; deletes a stream. False where JetStream did not.
  bool publish(const std::string& subject, const std::string& payload,
               const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  bool delete_stream(const std::string& stream) const;
  std::optional<int> stream_leader(const std::string& stream) const;
  bool stream_replicas_current(const std::string& stream) const;

  std::string logs() const;  // every node's log, for failure messages

 private:
  struct Node {
    std::string name;
    int client_port = 0;
    int route_port = 0;
    std::filesystem::path config;
    std::filesystem::path log;
    pid_t pid = -1;
  };
  std::vector<std::string> all_urls() const;
  void write_config(const Node& node, const std::filesystem::path& store, const std::string& extra_config) const;
  // Marks nodes whose process has exited as not running; true if there was one.
  bool reap_exited_nodes();

  std::string server_binary_;
  std::vector<Node> nodes_;
};

}  // namespace ringfile::bridge_test
