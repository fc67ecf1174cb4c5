#include "metrics_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::status {
namespace {

using Clock = std::chrono::steady_clock;

// What one client may take of the server: its whole exchange, request and response, within this
// time (a scrape is a few kilobytes each way), however it trickles; at most this many at once.
// Clients are served side by side, so one that is slow or silent holds up nobody else.
constexpr std::chrono::milliseconds kConnectionBudget{2000};
constexpr std::size_t kMostConnections = 64;
constexpr std::size_t kMaxRequestBytes = 8192;
// How long the listening socket is left out of the poll after accepting failed for want of file
// descriptors: clients wait in the backlog meanwhile, as they do beyond kMostConnections.
constexpr std::chrono::milliseconds kAcceptPause{100};

struct HostPort {
  std::string host;  // empty: every interface
  std::string port;
};

std::optional<HostPort> split_address(const std::string& text) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
  HostPort parts{text.substr(0, colon), text.substr(colon + 1)};
  for (const char digit : parts.port) {
    if (digit < '0' || digit > '9') return std::nullopt;
  }
  if (parts.port.size() > 5 || std::stoul(parts.port) > 65535) return std::nullopt;
  if (parts.host.size() >= 2 && parts.host.front() == '[' && parts.host.back() == ']') {
    parts.host = parts.host.substr(1, parts.host.size() - 2);
  }
  return parts;
}

std::string describe_address(const sockaddr* address) {
  char host[INET6_ADDRSTRLEN] = "?";
  unsigned port = 0;
  if (address->sa_family == AF_INET) {
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(address);
    ::inet_ntop(AF_INET, &ipv4->sin_addr, host, sizeof host);
    port = ntohs(ipv4->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(address);
  ::inet_ntop(AF_INET6, &ipv6->sin6_addr, host, sizeof host);
  port = ntohs(ipv6->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

constexpr const char* kMetricsType = "text/plain; version=0.0.4; charset=utf-8";

std::shared_ptr<const std::string> shared(std::string bytes) {
  return std::make_shared<const std::string>(std::move(bytes));
}

std::string response(const char* status, const char* content_type, const std::string& body, bool with_body,
                     const char* extra_header = "") {
  return std::string("HTTP/1.1 ") + status + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" + extra_header + "\r\n" +
         (with_body ? body : std::string());
}

}  // namespace

bool valid_listen_address(const std::string& text) { return split_address(text).has_value(); }

MetricsServer::MetricsServer(const std::string& address) {
  const auto parts = split_address(address);
  if (!parts) throw programs::UsageError("--listen '" + address + "' is not HOST:PORT (e.g. 127.0.0.1:9464)");
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int resolved = ::getaddrinfo(parts->host.empty() ? nullptr : parts->host.c_str(), parts->port.c_str(), &hints, &found);
  if (resolved != 0) {
    throw programs::RuntimeFailure("--listen '" + address + "': " + ::gai_strerror(resolved) + "; give an address of this machine");
  }
  int error = 0;
  for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
    programs::FileDescriptor socket(::socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (socket.get() < 0) {
      error = errno;
      continue;
    }
    const int yes = 1;
    ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(socket.get(), candidate->ai_addr, candidate->ai_addrlen) != 0 || ::listen(socket.get(), 16) != 0) {
      error = errno;
      continue;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(socket.get(), reinterpret_cast<sockaddr*>(&bound), &length);
    bound_address_ = describe_address(reinterpret_cast<const sockaddr*>(&bound));
    socket_ = std::move(socket);
    break;
  }
  ::freeaddrinfo(found);
  if (socket_.get() < 0) {
    throw programs::RuntimeFailure("--listen '" + address + "': cannot listen there: " + std::strerror(error) +
                                   (error == EADDRINUSE ? "; another program uses the port, choose another" : ""));
  }
}

struct MetricsServer::Connection {
  programs::FileDescriptor socket;
  Clock::time_point deadline;
  std::string request;
  // Null while the request is read. Shared: every client of one page sends the same bytes.
  std::shared_ptr<const std::string> reply;
  std::size_t sent = 0;
};

MetricsServer::~MetricsServer() = default;

void MetricsServer::serve_until(Clock::time_point deadline) {
  std::vector<pollfd> waiting;
  while (!programs::stop_requested()) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return;
    // A client past its budget is dropped, whatever it was doing.
    std::erase_if(connections_, [&](const std::unique_ptr<Connection>& connection) { return connection->deadline <= now; });
    Clock::time_point wake = deadline;
    waiting.clear();
    // Beyond kMostConnections, and while accepting is paused, new clients wait in the listen
    // backlog. (The listening socket is non-blocking: accept_clients takes all that wait, and
    // stops when none is left.)
    const bool paused = now < accept_paused_until_;
    if (paused) wake = std::min(wake, accept_paused_until_);
    const bool accepting = connections_.size() < kMostConnections && !paused;
    waiting.push_back({socket_.get(), static_cast<short>(accepting ? POLLIN : 0), 0});
    for (const auto& connection : connections_) {
      waiting.push_back({connection->socket.get(), static_cast<short>(connection->reply == nullptr ? POLLIN : POLLOUT), 0});
      wake = std::min(wake, connection->deadline);
    }
    const auto timeout = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
    if (::poll(waiting.data(), waiting.size(), static_cast<int>(timeout.count())) <= 0) continue;  // timeout, signal
    // Served first, before accepting adds to (and moves) the list the poll entries follow.
    for (std::size_t index = connections_.size(); index-- > 0;) {
      if (waiting[index + 1].revents != 0 && !progress(*connections_[index])) {
        connections_.erase(connections_.begin() + static_cast<std::ptrdiff_t>(index));
      }
    }
    if ((waiting[0].revents & POLLIN) != 0) accept_clients();
  }
}

void MetricsServer::accept_clients() {
  while (connections_.size() < kMostConnections) {
    programs::FileDescriptor socket(::accept4(socket_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (socket.get() < 0) {
      // Out of descriptors, the client stays in the backlog and the listening socket readable:
      // polled, it would end every poll at once, a busy loop for as long as the shortage lasts
      // (until the next sample at least). It is left out of the poll for kAcceptPause instead.
      if (errno == EMFILE || errno == ENFILE) accept_paused_until_ = Clock::now() + kAcceptPause;
      return;  // else none waiting (EAGAIN), or one that went away meanwhile
    }
    auto connection = std::make_unique<Connection>();
    connection->socket = std::move(socket);
    connection->deadline = Clock::now() + kConnectionBudget;
    connections_.push_back(std::move(connection));
  }
}

bool MetricsServer::progress(Connection& connection) {
  const int socket = connection.socket.get();
  if (connection.reply == nullptr) {
    char chunk[2048];
    const ssize_t got = ::recv(socket, chunk, sizeof chunk, 0);
    if (got < 0) return errno == EAGAIN || errno == EINTR;
    if (got == 0) return false;  // closed before a whole request
    connection.request.append(chunk, static_cast<std::size_t>(got));
    const bool whole = connection.request.find("\r\n\r\n") != std::string::npos ||
                       connection.request.find("\n\n") != std::string::npos;
    if (!whole && connection.request.size() < kMaxRequestBytes) return true;
    connection.reply = whole ? reply_to(connection.request)
                             : shared(response("431 Request Header Fields Too Large", "text/plain", "request too large\n", true));
    connection.request.clear();
  }
  const std::string& reply = *connection.reply;
  const ssize_t sent = ::send(socket, reply.data() + connection.sent, reply.size() - connection.sent, MSG_NOSIGNAL);
  if (sent < 0) return errno == EAGAIN || errno == EINTR;  // else the client went away
  connection.sent += static_cast<std::size_t>(sent);
  return connection.sent < reply.size();  // done: closed (Connection: close)
}

std::shared_ptr<const std::string> MetricsServer::reply_to(const std::string& request) {
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    return shared(response("400 Bad Request", "text/plain", "bad request\n", true));
  }
  const std::string method = line.substr(0, first_space);
  std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    return shared(response("405 Method Not Allowed", "text/plain", "only GET and HEAD\n", true, "Allow: GET, HEAD\r\n"));
  }
  if (target == "/metrics") {
    if (head) return shared(response("200 OK", kMetricsType, page_, false));
    // Made once a page: a page can be megabytes, and up to kMostConnections clients send it.
    if (metrics_reply_ == nullptr) metrics_reply_ = shared(response("200 OK", kMetricsType, page_, true));
    return metrics_reply_;
  }
  if (target == "/") {
    return shared(response("200 OK", "text/plain; charset=utf-8", "ringfile-status: the metrics are at /metrics\n", !head));
  }
  return shared(response("404 Not Found", "text/plain", "not found; the metrics are at /metrics\n", !head));
}

}  // namespace ringfile::status
