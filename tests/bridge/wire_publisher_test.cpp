// out's publishing connection against a stand-in server on 127.0.0.1 that says exactly what a
// test gives it: the handshake, replies found by their tokens, and servers that refuse or send
// what no NATS server should, each a failure with its reason and never a crash.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <thread>

#include "wire_publisher.hpp"

using ringfile::bridge::PublishReply;
using ringfile::bridge::WirePublisher;

namespace {

// Accepts one connection, sends `info`, reads until the client's PING, then sends `answer` with
// every "{inbox}" replaced by the inbox the client subscribed to, and ends its side of the
// connection (so that a client reading for more finds the end instead of waiting).
class StandInServer {
 public:
  StandInServer(std::string info, std::string answer) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    REQUIRE(::listen(listener_, 1) == 0);
    socklen_t length = sizeof(address);
    REQUIRE(::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, info = std::move(info), answer = std::move(answer)]() mutable {
      connection_ = ::accept(listener_, nullptr, nullptr);
      if (connection_ < 0) return;
      send_all(info);
      std::string received;
      char chunk[4096];
      while (received.find("PING\r\n") == std::string::npos) {
        const ssize_t got = ::recv(connection_, chunk, sizeof(chunk), 0);
        if (got <= 0) return;
        received.append(chunk, static_cast<std::size_t>(got));
      }
      const std::size_t sub = received.find("SUB ");
      const std::string inbox = received.substr(sub + 4, received.find(".* ", sub) - sub - 4);
      for (std::size_t at; (at = answer.find("{inbox}")) != std::string::npos;) answer.replace(at, 7, inbox);
      send_all(answer);
      ::shutdown(connection_, SHUT_WR);
    });
  }
  ~StandInServer() {
    thread_.join();
    if (connection_ >= 0) ::close(connection_);
    ::close(listener_);
  }
  StandInServer(const StandInServer&) = delete;
  StandInServer& operator=(const StandInServer&) = delete;

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  void send_all(const std::string& text) const {
    for (std::size_t sent = 0; sent < text.size();) {
      const ssize_t wrote = ::send(connection_, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
      if (wrote <= 0) return;
      sent += static_cast<std::size_t>(wrote);
    }
  }

  int listener_ = -1;
  int connection_ = -1;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

const std::string kInfo = R"(INFO {"server_id":"x","version":"2.9.10","headers":true,"max_payload":1048576})" "\r\n";

std::unique_ptr<WirePublisher> connect_to(const StandInServer& server, ringfile::bridge::NatsFailure* failure) {
  std::size_t next_url = 0;
  return WirePublisher::connect({server.url()}, &next_url, "test", std::chrono::milliseconds(10'000), failure);
}

// Reads until `wanted` replies came or the connection ended (the stand-in ends it after them).
std::map<std::uint64_t, PublishReply> replies_of(WirePublisher& publisher, std::size_t wanted) {
  std::map<std::uint64_t, PublishReply> replies;
  while (replies.size() < wanted &&
         publisher.read_replies(std::chrono::milliseconds(1000),
                                [&](std::uint64_t token, const PublishReply& reply) { replies[token] = reply; })) {
  }
  return replies;
}

}  // namespace

TEST_CASE("replies reach the publisher by their tokens: stored, refused, no stream") {
  const std::string ack = R"({"stream":"S","seq":7})";
  const std::string refusal = R"({"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 6"}})";
  const std::string no_responders = "NATS/1.0 503\r\n\r\n";
  StandInServer server(kInfo, "PONG\r\n"
                              "MSG {inbox}.5 1 " + std::to_string(ack.size()) + "\r\n" + ack + "\r\n" +
                              "PING\r\n"
                              "MSG {inbox}.6 1 " + std::to_string(refusal.size()) + "\r\n" + refusal + "\r\n" +
                              "HMSG {inbox}.7 1 " + std::to_string(no_responders.size()) + " " +
                              std::to_string(no_responders.size()) + "\r\n" + no_responders + "\r\n");
  ringfile::bridge::NatsFailure failure;
  const auto publisher = connect_to(server, &failure);
  REQUIRE_MESSAGE(publisher != nullptr, failure.text);
  const auto replies = replies_of(*publisher, 3);
  REQUIRE(replies.size() == 3);
  CHECK(replies.at(5).stored);
  CHECK_FALSE(replies.at(6).stored);
  CHECK(replies.at(6).js_code == 10071);
  CHECK_FALSE(replies.at(7).stored);
  CHECK(replies.at(7).code == 503);
}

TEST_CASE("a server that requires TLS, or refuses the credentials: no connection, and why") {
  SUBCASE("TLS") {
    StandInServer server(R"(INFO {"server_id":"x","headers":true,"tls_required":true})" "\r\n", "");
    ringfile::bridge::NatsFailure failure;
    CHECK(connect_to(server, &failure) == nullptr);
    CHECK_FALSE(failure.transient());
    CHECK(failure.text.find("TLS") != std::string::npos);
  }
  SUBCASE("credentials") {
    StandInServer server(kInfo, "-ERR 'Authorization Violation'\r\n");
    ringfile::bridge::NatsFailure failure;
    CHECK(connect_to(server, &failure) == nullptr);
    CHECK(failure.status == NATS_NOT_PERMITTED);
    CHECK_FALSE(failure.transient());
    CHECK(failure.text.find("Authorization Violation") != std::string::npos);
  }
  SUBCASE("not a NATS server") {
    StandInServer server("HTTP/1.1 400 Bad Request\r\n", "");
    ringfile::bridge::NatsFailure failure;
    CHECK(connect_to(server, &failure) == nullptr);
    CHECK(failure.text.find("not a NATS server") != std::string::npos);
  }
}

TEST_CASE("frames no server should send break the connection with a reason, never the process") {
  const char* const frames[] = {
      "MSG {inbox}.1 1 18446744073709551615\r\n",  // a size that overflows arithmetic
      "MSG {inbox}.1 1 99999999999\r\n",           // more than any reply
      "MSG {inbox}.1 1 x\r\n",                     // not a size
      "HMSG {inbox}.1 1 10 4\r\nNATS/1.0\r\n",     // headers longer than the whole
      "MSG\r\n",                                   // no fields
      "HELLO\r\n",                                 // no verb of the protocol
  };
  for (const std::string frame : frames) {
    CAPTURE(frame);
    StandInServer server(kInfo, std::string("PONG\r\n") + frame);
    ringfile::bridge::NatsFailure failure;
    const auto publisher = connect_to(server, &failure);
    REQUIRE_MESSAGE(publisher != nullptr, failure.text);
    CHECK(replies_of(*publisher, 1).empty());
    CHECK(publisher->failure().status != NATS_OK);
    CHECK(publisher->failure().transient());
    CHECK(publisher->failure().text.find("does not parse") != std::string::npos);
  }
}
