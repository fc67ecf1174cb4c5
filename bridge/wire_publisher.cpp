#include "wire_publisher.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "message_origin.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/version.hpp"

namespace ringfile::bridge {
namespace {

using Clock = std::chrono::steady_clock;

// Queued messages are written once this much is waiting (and at every flush()).
constexpr std::size_t kFlushBytes = 64 * 1024;
constexpr std::size_t kReadChunk = 64 * 1024;
// A reply is a PubAck of some hundred bytes; a frame that claims more than this is not one we
// could have asked for (and its size is not to be trusted in arithmetic).
constexpr std::uint64_t kLargestFrame = 64 * 1024 * 1024;

std::string new_inbox() {
  static constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device device;
  std::uniform_int_distribution<std::size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string inbox = "_INBOX.";
  for (int at = 0; at < 22; ++at) inbox += kAlphabet[pick(device)];
  return inbox;
}

int milliseconds_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<std::int64_t>(left, 0, 60'000));
}

// A connected, non-blocking TCP socket to the server, or -1 with `*problem` set.
int connect_socket(const ServerUrl& server, std::chrono::milliseconds timeout, std::string* problem) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(server.port);
  if (const int error = ::getaddrinfo(server.host.c_str(), port.c_str(), &hints, &addresses); error != 0) {
    *problem = gai_strerror(error);
    return -1;
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  int connected = -1;
  for (addrinfo* address = addresses; address != nullptr && connected < 0; address = address->ai_next) {
    const int fd = ::socket(address->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      *problem = std::strerror(errno);
      continue;
    }
    int error = ::connect(fd, address->ai_addr, address->ai_addrlen) == 0 ? 0 : errno;
    if (error == EINPROGRESS) {
      pollfd waiting{fd, POLLOUT, 0};
      const int ready = ::poll(&waiting, 1, milliseconds_until(deadline));
      socklen_t length = sizeof(error);
      if (ready <= 0) {
        error = ETIMEDOUT;
      } else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
      }
    }
    if (error != 0) {
      *problem = std::strerror(error);
      ::close(fd);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    connected = fd;
  }
  ::freeaddrinfo(addresses);
  return connected;
}

std::string connect_line(const ServerUrl& server, std::string_view client_name) {
  programs::JsonWriter json;
  json.begin_object().field("verbose", false).field("pedantic", false).field("tls_required", false);
  json.field("name", client_name).field("lang", "C++ (ringfile-bridge)").field("version", RINGFILE_VERSION);
  json.field("protocol", 1).field("headers", true).field("no_responders", true);
  if (!server.user.empty() && !server.password.empty()) {
    json.field("user", server.user).field("pass", server.password);
  } else if (!server.user.empty()) {
    json.field("auth_token", server.user);
  }
  json.end_object();
  return "CONNECT " + json.text() + "\r\n";
}

// "-ERR 'Authorization Violation'" -> "Authorization Violation"
std::string error_text(std::string_view line) {
  std::string_view text = line.substr(std::min<std::size_t>(line.size(), 4));
  while (!text.empty() && (text.front() == ' ' || text.front() == '\'')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\'')) text.remove_suffix(1);
  return std::string(text);
}

// The fields of a MSG or HMSG line after its verb.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> fields;
  while (!line.empty()) {
    const std::size_t space = line.find(' ');
    if (space != 0) fields.push_back(line.substr(0, space));
    if (space == std::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  return fields;
}

// The status in a header block's first line ("NATS/1.0 503" -> 503), if it has one: a reply that
// is a status alone comes from the server, not from a stream (503: no stream takes the subject).
std::optional<int> status_of(std::string_view headers) {
  const std::string_view first_line = headers.substr(0, headers.find("\r\n"));
  const std::size_t space = first_line.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const std::optional<std::uint64_t> code = parse_unsigned(first_line.substr(space + 1, 3));
  if (!code) return std::nullopt;
  return static_cast<int>(*code);
}

PublishReply status_reply(int status) {
  PublishReply reply;
  reply.code = status;
  reply.description = status == 503 ? "no stream takes the subject (no responders)"
                                    : "the server answered with status " + std::to_string(status);
  return reply;
}

}  // namespace

std::unique_ptr<WirePublisher> WirePublisher::connect(const std::vector<std::string>& urls, std::size_t* next_url,
                                                      std::string_view client_name,
                                                      std::chrono::milliseconds timeout, NatsFailure* failure) {
  std::string problems;
  for (std::size_t tried = 0; tried < urls.size(); ++tried) {
    const std::size_t index = (*next_url + tried) % urls.size();
    std::string problem;
    const std::optional<ServerUrl> server = parse_server_url(urls[index], &problem);
    if (!server) {
      *failure = NatsFailure{NATS_INVALID_ARG, 0, "--nats: " + problem};
      return nullptr;
    }
    const std::string where = server->host + ":" + std::to_string(server->port);
    const int socket = connect_socket(*server, timeout, &problem);
    if (socket < 0) {
      problems += (problems.empty() ? "" : "; ") + where + ": " + problem;
      continue;
    }
    std::unique_ptr<WirePublisher> publisher(new WirePublisher(socket, new_inbox(), timeout));
    if (publisher->handshake(*server, client_name)) {
      *next_url = (index + 1) % urls.size();
      return publisher;
    }
    if (!publisher->failure_.transient()) {
      *failure = publisher->failure_;
      failure->text = where + ": " + failure->text;
      return nullptr;
    }
    problems += (problems.empty() ? "" : "; ") + where + ": " + publisher->failure_.text;
  }
  *failure = NatsFailure{NATS_NO_SERVER, 0, "no server took the publishing connection (" + problems + ")"};
  return nullptr;
}

WirePublisher::WirePublisher(int socket, std::string inbox, std::chrono::milliseconds timeout) noexcept
    : socket_(socket), inbox_(std::move(inbox)), timeout_(timeout) {}

WirePublisher::~WirePublisher() {
  // Reset rather than close gracefully: what is still queued in the kernel must not reach the
  // server after the bridge gave up on this connection (it would land after the resync).
  const linger reset{1, 0};
  ::setsockopt(socket_, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
  ::close(socket_);
}

bool WirePublisher::broken(natsStatus status, std::string text) {
  if (failure_.status == NATS_OK) failure_ = NatsFailure{status, 0, std::move(text)};
  return false;
}

bool WirePublisher::handshake(const ServerUrl& server, std::string_view client_name) {
  const Clock::time_point deadline = Clock::now() + timeout_;
  std::size_t line_end = std::string::npos;
  while ((line_end = incoming_.find("\r\n")) == std::string::npos) {
    if (Clock::now() >= deadline) return broken(NATS_TIMEOUT, "no INFO from the server");
    if (!receive(std::chrono::milliseconds(milliseconds_until(deadline)))) return false;
  }
  const std::string_view info = std::string_view(incoming_).substr(0, line_end);
  if (!info.starts_with("INFO ")) return broken(NATS_PROTOCOL_ERROR, "not a NATS server (it did not start with INFO)");
  if (info.find("\"tls_required\":true") != std::string_view::npos) {
    return broken(NATS_SECURE_CONNECTION_REQUIRED, "the server requires TLS, which ringfile-bridge out does not speak");
  }
  if (info.find("\"headers\":false") != std::string_view::npos) {
    return broken(NATS_NO_SERVER_SUPPORT, "the server does not take message headers (nats-server 2.2 or later does)");
  }
  incoming_read_ = line_end + 2;
  outgoing_ = connect_line(server, client_name) + "SUB " + inbox_ + ".* 1\r\nPING\r\n";
  if (!flush()) return false;
  const ReplyHandler none = [](std::uint64_t, const PublishReply&) {};
  while (handle_frames(none) && !pong_seen_) {
    if (Clock::now() >= deadline) return broken(NATS_TIMEOUT, "no answer to CONNECT");
    if (!receive(std::chrono::milliseconds(milliseconds_until(deadline)))) {
      // An -ERR that came before the close says why; a PONG that came before it completed the
      // handshake, and read_replies() hands over what followed it before it reports the close.
      handle_frames(none);
      return pong_seen_;
    }
  }
  return pong_seen_;
}

bool WirePublisher::publish(std::string_view subject, std::uint64_t token, std::string_view origin,
                            std::uint64_t expected_last_sequence, std::span<const std::byte> payload) {
  if (failure_.status != NATS_OK) return false;
  char reply[96];
  const int reply_length =
      std::snprintf(reply, sizeof(reply), "%s.%llu", inbox_.c_str(), static_cast<unsigned long long>(token));
  append_hpub(outgoing_, subject, std::string_view(reply, static_cast<std::size_t>(reply_length)), origin,
              expected_last_sequence, payload);
  return outgoing_.size() < kFlushBytes || flush();
}

bool WirePublisher::flush() {
  std::size_t sent = 0;
  while (sent < outgoing_.size()) {
    const ssize_t written = ::send(socket_, outgoing_.data() + sent, outgoing_.size() - sent, MSG_NOSIGNAL);
    if (written > 0) {
      sent += static_cast<std::size_t>(written);
      continue;
    }
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      return broken(NATS_CONNECTION_CLOSED, std::string("sending: ") + std::strerror(errno));
    }
    // The server reads slower than we write. Its replies are read meanwhile, so that neither
    // side waits for the other with full buffers.
    pollfd waiting{socket_, POLLOUT | POLLIN, 0};
    const int ready = ::poll(&waiting, 1, static_cast<int>(timeout_.count()));
    if (ready == 0) return broken(NATS_TIMEOUT, "the server took nothing for " + std::to_string(timeout_.count()) + " ms");
    if (ready > 0 && (waiting.revents & POLLIN) != 0 && !receive(std::chrono::milliseconds(0))) return false;
  }
  outgoing_.clear();
  return true;
}

bool WirePublisher::receive(std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) {
    pollfd waiting{socket_, POLLIN, 0};
    if (::poll(&waiting, 1, static_cast<int>(timeout.count())) <= 0) return true;  // nothing yet (or EINTR)
  }
  if (incoming_read_ > 0) {
    incoming_.erase(0, incoming_read_);
    incoming_read_ = 0;
  }
  char chunk[kReadChunk];
  for (;;) {
    const ssize_t got = ::recv(socket_, chunk, sizeof(chunk), 0);
    if (got > 0) {
      incoming_.append(chunk, static_cast<std::size_t>(got));
      continue;
    }
    if (got == 0) return broken(NATS_CONNECTION_CLOSED, "the server closed the connection");
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return broken(NATS_CONNECTION_CLOSED, std::string("receiving: ") + std::strerror(errno));
  }
}

bool WirePublisher::read_replies(std::chrono::milliseconds timeout, const ReplyHandler& on_reply) {
  const std::uint64_t handled_before = replies_handled_;
  // What came with the handshake's answer, or before a close.
  if (!handle_frames(on_reply) || failure_.status != NATS_OK) return false;
  const std::size_t unhandled = incoming_.size() - incoming_read_;
  bool open = receive(std::chrono::milliseconds(0));
  if (open && replies_handled_ == handled_before && incoming_.size() - incoming_read_ == unhandled &&
      timeout.count() > 0) {
    open = receive(timeout);
  }
  // What came before a close is handled too: replies, or an -ERR saying why.
  return handle_frames(on_reply) && open;
}

bool WirePublisher::handle_frames(const ReplyHandler& on_reply) {
  const std::string_view inbox_prefix = inbox_;
  for (;;) {
    const std::string_view pending = std::string_view(incoming_).substr(incoming_read_);
    const std::size_t line_end = pending.find("\r\n");
    if (line_end == std::string_view::npos) break;
    const std::string_view line = pending.substr(0, line_end);
    const bool with_headers = line.starts_with("HMSG ");
    if (with_headers || line.starts_with("MSG ")) {
      // MSG subject sid [reply] size; HMSG subject sid [reply] header-size total-size
      const std::vector<std::string_view> fields = fields_of(line);
      const std::size_t least = with_headers ? 5 : 4;
      const std::optional<std::uint64_t> total = fields.size() >= least ? parse_unsigned(fields.back()) : std::nullopt;
      const std::optional<std::uint64_t> header_bytes =
          with_headers && total ? parse_unsigned(fields[fields.size() - 2]) : std::optional<std::uint64_t>(0);
      if (!total || !header_bytes || *header_bytes > *total || *total > kLargestFrame) {
        // The reason, rather than a close that came after it.
        failure_ = NatsFailure{NATS_CONNECTION_CLOSED, 0, "a message frame that does not parse: " + std::string(line)};
        return false;
      }
      if (pending.size() < line_end + 2 + *total + 2) break;  // the rest is still on its way
      const std::string_view body = pending.substr(line_end + 2, *total);
      const std::string_view subject = fields[1];
      if (subject.size() > inbox_prefix.size() + 1 && subject.starts_with(inbox_prefix) &&
          subject[inbox_prefix.size()] == '.') {
        if (const auto token = parse_unsigned(subject.substr(inbox_prefix.size() + 1))) {
          const std::string_view headers = body.substr(0, *header_bytes);
          const std::string_view data = body.substr(*header_bytes);
          const std::optional<int> status = with_headers ? status_of(headers) : std::nullopt;
          on_reply(*token, status && data.empty() ? status_reply(*status) : publish_reply_of(data));
          replies_handled_ += 1;
        }
      }
      incoming_read_ += line_end + 2 + *total + 2;
      continue;
    }
    incoming_read_ += line_end + 2;
    if (line == "PING") {
      outgoing_ += "PONG\r\n";
    } else if (line == "PONG") {
      if (!pong_seen_) {
        pong_seen_ = true;
        break;  // the handshake's answer: what follows is for read_replies
      }
    } else if (line.starts_with("-ERR")) {
      const std::string text = error_text(line);
      // Refusals (credentials, permissions) are for the user to mend; the server closes the
      // connection after most other errors, which retrying overcomes.
      const bool refused = text.find("Violation") != std::string::npos || text.find("Authentication") != std::string::npos;
      // Said before the server closed the connection: the reason, rather than the close.
      failure_ = NatsFailure{refused ? NATS_NOT_PERMITTED : NATS_CONNECTION_CLOSED, 0, "the server refused: " + text};
      return false;
    } else if (line != "+OK" && !line.starts_with("INFO ")) {  // +OK and INFO (the cluster's changes) need nothing
      failure_ = NatsFailure{NATS_CONNECTION_CLOSED, 0, "a line that does not parse: " + std::string(line.substr(0, 80))};
      return false;
    }
  }
  return outgoing_.empty() || flush();
}

}  // namespace ringfile::bridge
