#include "metrics_server.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/stop_signals.hpp"

namespace ringfile::status {
namespace {

constexpr int kReadTimeoutMs = 1000;
constexpr std::size_t kMaxRequestBytes = 8192;

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

void send_all(int connection, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t result = ::send(connection, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (result < 0 && errno == EINTR) continue;
    if (result <= 0) return;  // the client went away: nothing to do about it
    sent += static_cast<std::size_t>(result);
  }
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
    programs::FileDescriptor socket(::socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC, 0));
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

void MetricsServer::serve_until(std::chrono::steady_clock::time_point deadline) {
  while (!programs::stop_requested()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd waiting{socket_.get(), POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0) continue;  // timeout, or a signal
    const programs::FileDescriptor connection(::accept4(socket_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.get() >= 0) answer(connection.get());
  }
}

void MetricsServer::answer(int connection) {
  std::string request;
  char chunk[2048];
  while (request.find("\r\n\r\n") == std::string::npos && request.find("\n\n") == std::string::npos &&
         request.size() < kMaxRequestBytes) {
    pollfd readable{connection, POLLIN, 0};
    if (::poll(&readable, 1, kReadTimeoutMs) <= 0) return;  // too slow, or a signal: drop it
    const ssize_t got = ::recv(connection, chunk, sizeof chunk, 0);
    if (got <= 0) return;
    request.append(chunk, static_cast<std::size_t>(got));
  }
  const std::string line = request.substr(0, request.find_first_of("\r\n"));
  const std::size_t first_space = line.find(' ');
  const std::size_t second_space = line.find(' ', first_space + 1);
  if (first_space == std::string::npos || second_space == std::string::npos) {
    send_all(connection, response("400 Bad Request", "text/plain", "bad request\n", true));
    return;
  }
  const std::string method = line.substr(0, first_space);
  std::string target = line.substr(first_space + 1, second_space - first_space - 1);
  target = target.substr(0, target.find('?'));
  const bool head = method == "HEAD";
  if (method != "GET" && !head) {
    send_all(connection, response("405 Method Not Allowed", "text/plain", "only GET and HEAD\n", true,
                                  "Allow: GET, HEAD\r\n"));
  } else if (target == "/metrics") {
    send_all(connection, response("200 OK", "text/plain; version=0.0.4; charset=utf-8", page_, !head));
  } else if (target == "/") {
    send_all(connection, response("200 OK", "text/plain; charset=utf-8",
                                  "ringfile-status: the metrics are at /metrics\n", !head));
  } else {
    send_all(connection, response("404 Not Found", "text/plain", "not found; the metrics are at /metrics\n", !head));
  }
}

}  // namespace ringfile::status
