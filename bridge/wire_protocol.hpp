// The pieces of the NATS client protocol that `ringfile-bridge out` speaks itself on its
// publishing connection (wire_publisher.hpp), each without a socket so that it can be tested on
// its own: a server URL, JetStream's answer to a publish, and the framing of a message.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ringfile::bridge {

// nats://[user:password@|token@]host[:port], or host[:port]; IPv6 hosts in brackets.
struct ServerUrl {
  std::string host;
  std::uint16_t port = 4222;
  std::string user;      // with password: user and password; alone: a token
  std::string password;
};

// The URL, or nullopt with `*problem` saying what is wrong with it (tls:// is refused: the
// publishing connection does not speak TLS).
std::optional<ServerUrl> parse_server_url(std::string_view url, std::string* problem);

// JetStream's reply to one publish: stored (or a duplicate of a stored message, just as good),
// or refused with its error code and description.
struct PublishReply {
  bool stored = false;
  int code = 0;     // the error's HTTP-like code (400, 503, ...)
  int js_code = 0;  // JetStream's err_code (10070: wrong last message id, ...)
  std::string description;
};

// Reads a PubAck, {"stream":"S","seq":12} or {"error":{"code":400,"err_code":10070,
// "description":"..."}}. A body that is neither reads as refused, with the body as description.
PublishReply publish_reply_of(std::string_view body);

// Appends one HPUB of `payload` to `out` with two headers: Ringfile-Origin (`origin`,
// message_origin.hpp) and Nats-Expected-Last-Sequence (JetStream stores the message only if the
// stream's last sequence is `expected_last_sequence`), the reply going to `reply_subject`.
void append_hpub(std::string& out, std::string_view subject, std::string_view reply_subject, std::string_view origin,
                 std::uint64_t expected_last_sequence, std::span<const std::byte> payload);

}  // namespace ringfile::bridge
