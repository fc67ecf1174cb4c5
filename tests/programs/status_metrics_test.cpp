// ringfile-status for Prometheus: a lint-clean exposition (promtool), ringfile_up for every ring
// asked for, and /metrics served over HTTP to a real client (curl). Tests of tools that are not
// installed skip, saying so.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/program.hpp"
#include "support/status_json.hpp"
#include "support/work_dir.hpp"

using namespace ringfile::program_test;

namespace {

// A ring with a detached named consumer behind, a live one, and a producer that has written.
std::string busy_ring(const WorkDir& dir) {
  const std::string ring = dir / "metrics.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "behind", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  REQUIRE(run(kProducer, {ring, "--synthetic", "--count", "100", "--quiet"}, dir.path()).exit_code == 0);
  return ring;
}

// A plain TCP client of the server, for what curl does not do: send nothing, or a byte at a time.
class ClientSocket {
 public:
  explicit ClientSocket(const std::string& address) : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in server{};
    server.sin_family = AF_INET;
    const std::size_t colon = address.rfind(':');
    server.sin_port = htons(static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    REQUIRE(::inet_pton(AF_INET, address.substr(0, colon).c_str(), &server.sin_addr) == 1);
    REQUIRE(::connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) == 0);
    // receive_all() gives up after this: a guard against a hang only.
    const timeval patience{.tv_sec = 30, .tv_usec = 0};
    REQUIRE(::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience) == 0);
  }
  ClientSocket(ClientSocket&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ClientSocket(const ClientSocket&) = delete;
  ClientSocket& operator=(const ClientSocket&) = delete;
  ~ClientSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool send_all(const std::string& bytes) const {
    return ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(bytes.size());
  }
  // Everything the server sends until it closes the connection.
  std::string receive_all() const {
    std::string received;
    char chunk[4096];
    ssize_t got = 0;
    while ((got = ::recv(fd_, chunk, sizeof chunk, 0)) > 0) received.append(chunk, static_cast<std::size_t>(got));
    return received;
  }

 private:
  int fd_;
};

// Where ringfile-status --listen serves, once it has said so on stderr.
std::string listening_address(const Program& server) {
  std::string address;
  REQUIRE(eventually([&] {
    const std::string said = server.err();
    const std::size_t at = said.find("http://");
    if (at == std::string::npos || said.find("/metrics\n", at) == std::string::npos) return false;
    address = said.substr(at + 7, said.find("/metrics", at) - at - 7);
    return true;
  }));
  return address;
}

// The descriptor numbers a process has open.
std::set<int> open_descriptors(pid_t pid) {
  std::set<int> numbers;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    numbers.insert(std::stoi(entry.path().filename().string()));
  }
  return numbers;
}

std::string exposition(const WorkDir& dir, const std::vector<std::string>& rings, int expected_exit) {
  std::vector<std::string> args = rings;
  args.insert(args.end(), {"--prometheus", "--interval", "100ms"});
  const Result result = run(kStatus, args, dir.path());
  INFO(result.err);
  CHECK(result.exit_code == expected_exit);
  return result.out;
}

}  // namespace

TEST_CASE("--prometheus passes promtool check metrics without a warning") {
  const auto promtool = find_in_path("promtool");
  if (!promtool) {
    MESSAGE("skipped: promtool not found (Debian package prometheus)");
    return;
  }
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  Program waiting_for(kConsumer, {ring, "--name", "live", "--discard"}, dir.path());
  REQUIRE(eventually([&] { return status_of(ring, dir.path()).consumers.size() == 2; }));
  write_file(dir / "metrics.prom", exposition(dir, {ring}, 0));
  const Result lint = run(*promtool, {"check", "metrics"}, dir.path(), {.stdin_file = dir / "metrics.prom"});
  INFO(read_file(dir / "metrics.prom"));
  CHECK(lint.exit_code == 0);
  CHECK(lint.out.empty());
  CHECK(lint.err.empty());
  waiting_for.signal(SIGTERM);
  CHECK(waiting_for.wait() == 0);
}

TEST_CASE("--prometheus: ringfile_up is 1 for each ring read and 0 for each that could not be - counters end in _total") {
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  const std::string missing = dir / "missing.ring";
  const std::string text = exposition(dir, {ring, missing}, 1);
  CHECK(text.find("# TYPE ringfile_up gauge\n") != std::string::npos);
  CHECK(text.find("ringfile_up{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(text.find("ringfile_up{ring=\"" + missing + "\"} 0\n") != std::string::npos);
  CHECK(text.find("ring=\"" + missing + "\",") == std::string::npos);  // nothing else of it
  CHECK(text.find("ringfile_consumer_slots_used{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(text.find("ringfile_producers_waiting{ring=\"" + ring + "\"} 0\n") != std::string::npos);
  // Every counter is named _total, and only counters are.
  std::size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    const std::size_t name_end = text.find(' ', at + 7);
    const std::string name = text.substr(at + 7, name_end - at - 7);
    const std::string type = text.substr(name_end + 1, text.find('\n', name_end) - name_end - 1);
    INFO(name);
    CHECK((type == "counter") == (name.size() > 6 && name.substr(name.size() - 6) == "_total"));
    at = name_end;
  }
  // Only an unreadable ring: still an exposition, for the textfile collector.
  CHECK(exposition(dir, {missing}, 1) == "# HELP ringfile_up 1 when the ring could be opened and read, 0 when not.\n"
                                         "# TYPE ringfile_up gauge\nringfile_up{ring=\"" + missing + "\"} 0\n");
}

TEST_CASE("--listen serves /metrics over HTTP to a real client, and stops cleanly on SIGTERM") {
  const auto curl = find_in_path("curl");
  if (!curl) {
    MESSAGE("skipped: curl not found (Debian package curl)");
    return;
  }
  WorkDir dir;
  const std::string ring = busy_ring(dir);
  Program server(kStatus, {ring, "--listen", "127.0.0.1:0", "--interval", "100ms"}, dir.path());
  const std::string address = listening_address(server);
  const auto fetch = [&](const std::vector<std::string>& args) {
    std::vector<std::string> all{"--silent", "--show-error", "--max-time", "10"};
    all.insert(all.end(), args.begin(), args.end());
    return run(*curl, all, dir.path());
  };
  const Result metrics = fetch({"--include", "http://" + address + "/metrics"});
  INFO(metrics.err);
  REQUIRE(metrics.exit_code == 0);
  CHECK(metrics.out.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(metrics.out.find("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n") != std::string::npos);
  CHECK(metrics.out.find("ringfile_up{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  CHECK(metrics.out.find("ringfile_consumer_lag_bytes{ring=\"" + ring + "\",consumer=\"behind\"") != std::string::npos);
  // Sampled anew: a producer's records show up in a later scrape.
  REQUIRE(run(kProducer, {ring, "--synthetic", "--count", "10", "--quiet"}, dir.path()).exit_code == 0);
  const std::string head = "ringfile_reserved_bytes_total{ring=\"" + ring + "\"} " +
                           std::to_string(status_of(ring, dir.path()).head) + "\n";
  CHECK(eventually([&] { return fetch({"http://" + address + "/metrics"}).out.find(head) != std::string::npos; }));
  CHECK(fetch({"--write-out", "%{http_code}", "--output", "/dev/null", "http://" + address + "/nothing"}).out == "404");
  CHECK(fetch({"--write-out", "%{http_code}", "--output", "/dev/null", "--data", "x", "http://" + address + "/metrics"})
            .out == "405");

  // Clients that send nothing, and one that trickles its request a byte at a time, hold up no
  // other: before, the server served one connection at a time and waited a second for each
  // byte, so the trickler held it for as long as it went on, and curl gave up.
  std::vector<ClientSocket> silent;
  for (int index = 0; index < 20; ++index) silent.emplace_back(address);
  ClientSocket trickler(address);
  std::atomic<bool> trickling{true};
  std::thread trickle([&] {
    const std::string endless = "GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(8000, 'x');
    for (std::size_t at = 0; trickling.load(std::memory_order_relaxed) && at < endless.size(); ++at) {
      if (!trickler.send_all(endless.substr(at, 1))) break;  // dropped by the server: its budget is spent
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the trickle itself, not a wait
    }
  });
  const Result meanwhile = fetch({"http://" + address + "/metrics"});
  trickling.store(false, std::memory_order_relaxed);
  trickle.join();
  INFO(meanwhile.err);
  CHECK(meanwhile.exit_code == 0);
  CHECK(meanwhile.out.find("ringfile_up{ring=\"" + ring + "\"} 1\n") != std::string::npos);
  // A request longer than the server reads is refused as such (it was answered 200 before).
  ClientSocket oversized(address);
  REQUIRE(oversized.send_all("GET /metrics HTTP/1.1\r\nX-Padding: " + std::string(9000, 'x')));
  CHECK(oversized.receive_all().rfind("HTTP/1.1 431 Request Header Fields Too Large\r\n", 0) == 0);
  // A stop is not held up by clients in the middle of a request either.
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}

TEST_CASE("--listen out of file descriptors sleeps while clients wait in the backlog, and serves them once some are back") {
  WorkDir dir;
  const std::string ring = dir / "metrics.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  // No sample during the test: the server has nothing to do but its clients.
  Program server(kStatus, {ring, "--listen", "127.0.0.1:0", "--interval", "60s"}, dir.path());
  const std::string address = listening_address(server);
  // Answered once the first sample is taken (the ring opened) and the server is in its poll loop:
  // the descriptors it has open then are all it keeps.
  ClientSocket first(address);
  REQUIRE(first.send_all("GET /metrics HTTP/1.1\r\n\r\n"));
  REQUIRE(first.receive_all().rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  // Its descriptor limit lowered to leave it two free numbers: two clients take them.
  const std::set<int> open = open_descriptors(server.pid());
  int limit = 0;
  for (int free_numbers = 0; free_numbers < 2; ++limit) {
    if (!open.contains(limit)) ++free_numbers;
  }
  rlimit descriptors{};
  REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, nullptr, &descriptors) == 0);
  descriptors.rlim_cur = static_cast<rlim_t>(limit);
  REQUIRE(::prlimit(server.pid(), RLIMIT_NOFILE, &descriptors, nullptr) == 0);
  std::vector<ClientSocket> held;
  for (int index = 0; index < 2; ++index) held.emplace_back(address);
  REQUIRE(eventually([&] { return open_descriptors(server.pid()).size() == open.size() + 2; }));
  // Accepting these fails (EMFILE): they wait in the backlog, which keeps the listening socket
  // readable. Polled, it ended every poll at once: the server spun until descriptors came back.
  std::vector<ClientSocket> waiting;
  for (int index = 0; index < 4; ++index) waiting.emplace_back(address);
  // Asked now, so that it is answered as soon as it is accepted, whenever that is (a held client
  // is dropped after 2 s of silence, which on a slow machine may come before the looks are done).
  REQUIRE(waiting.front().send_all("GET /metrics HTTP/1.1\r\n\r\n"));
  // A spinning process is 'R' at every look, running or, on a busy machine, waiting for a CPU;
  // one asleep in poll hardly ever is.
  int running = 0;
  constexpr int kLooks = 50;
  for (int look = 0; look < kLooks; ++look) {
    if (process_state(server.pid()) == 'R') running += 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(4));  // the looks' pace, not a wait for anything
  }
  CHECK_MESSAGE(running < kLooks / 2, "the server was running at " << running << " of " << kLooks << " looks");
  // Two clients gone give two descriptors back: the first one waiting is served.
  held.clear();
  const std::string reply = waiting.front().receive_all();
  INFO("reply: " << reply);
  CHECK(reply.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}

TEST_CASE("--listen follows the ring's path: a ring removed shows as ringfile_up 0, a new one there is read") {
  WorkDir dir;
  const std::string ring = dir / "replaced.ring";
  REQUIRE(run(kProducer, {ring, "--create", "--size", "1M", "--count", "10", "--synthetic", "--quiet"}, dir.path())
              .exit_code == 0);
  Program server(kStatus, {ring, "--listen", "127.0.0.1:0", "--interval", "50ms"}, dir.path());
  const std::string address = listening_address(server);
  std::string page;
  const auto scrape_shows = [&](const std::string& wanted) {
    ClientSocket client(address);
    REQUIRE(client.send_all("GET /metrics HTTP/1.1\r\n\r\n"));
    page = client.receive_all();
    return page.find(wanted) != std::string::npos;
  };
  const std::string label = "{ring=\"" + ring + "\"} ";
  REQUIRE(scrape_shows("ringfile_capacity_bytes" + label + "1048576\n"));
  // Removed: before, the server went on reading the file it had open, up with its old capacity.
  std::filesystem::remove(ring);
  CHECK(eventually([&] { return scrape_shows("ringfile_up" + label + "0\n"); }));
  INFO("last page: " << page);
  CHECK(page.find("ringfile_capacity_bytes") == std::string::npos);
  CHECK(server.err().find("'" + ring + "': no such file") != std::string::npos);
  // A new ring at the path, of another size, with a consumer of its own: the next sample reads it.
  REQUIRE(run(kProducer, {ring, "--create", "--size", "2M", "--count", "500", "--synthetic", "--quiet"}, dir.path())
              .exit_code == 0);
  REQUIRE(run(kConsumer, {ring, "--name", "newcomer", "--count", "0", "--quiet"}, dir.path()).exit_code == 0);
  CHECK(eventually([&] { return scrape_shows("ringfile_consumer_lag_bytes{ring=\"" + ring + "\",consumer=\"newcomer\""); }));
  CHECK(page.find("ringfile_up" + label + "1\n") != std::string::npos);
  CHECK(page.find("ringfile_capacity_bytes" + label + "2097152\n") != std::string::npos);
  server.signal(SIGTERM);
  CHECK(server.wait() == 0);
}
