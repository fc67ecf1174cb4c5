// What out's publishing connection writes and reads, without a socket: server URLs, JetStream's
// replies to a publish, and the HPUB frame of a message.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "wire_protocol.hpp"

using ringfile::bridge::append_hpub;
using ringfile::bridge::parse_server_url;
using ringfile::bridge::publish_reply_of;

TEST_CASE("a server URL: host, port, and the user and password or token it carries") {
  std::string problem;
  auto plain = parse_server_url("nats://127.0.0.1:4333", &problem);
  REQUIRE(plain.has_value());
  CHECK(plain->host == "127.0.0.1");
  CHECK(plain->port == 4333);
  CHECK(plain->user.empty());

  auto bare = parse_server_url("localhost", &problem);
  REQUIRE(bare.has_value());
  CHECK(bare->host == "localhost");
  CHECK(bare->port == 4222);

  auto with_password = parse_server_url("nats://limited:p%40ss@host:5000/", &problem);
  REQUIRE(with_password.has_value());
  CHECK(with_password->user == "limited");
  CHECK(with_password->password == "p@ss");
  CHECK(with_password->host == "host");
  CHECK(with_password->port == 5000);

  auto with_token = parse_server_url("nats://s3cret@host", &problem);
  REQUIRE(with_token.has_value());
  CHECK(with_token->user == "s3cret");
  CHECK(with_token->password.empty());

  auto ipv6 = parse_server_url("nats://[::1]:4222", &problem);
  REQUIRE(ipv6.has_value());
  CHECK(ipv6->host == "::1");
  CHECK(ipv6->port == 4222);
}

TEST_CASE("a server URL that cannot be used says why") {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"tls://host:4222", "TLS"},       {"http://host", "unknown scheme"}, {"nats://host:0", "port"},
      {"nats://host:99999", "port"},    {"nats://host:x", "port"},         {"nats://:4222", "no host"},
      {"nats://[::1:4222", "IPv6"},     {"nats://u:%4@host", "%-escape"},  {"nats://host:", "port"},
  };
  for (const auto& entry : refused) {
    // Not a structured binding: clang (the sanitizer builds) does not let CAPTURE's lambda use one.
    const std::string& url = entry.first;
    const std::string& why = entry.second;
    CAPTURE(url);
    std::string problem;
    CHECK_FALSE(parse_server_url(url, &problem).has_value());
    CHECK(problem.find(why) != std::string::npos);
  }
}

TEST_CASE("JetStream's reply to a publish: stored, a duplicate, or refused with its codes") {
  const auto stored = publish_reply_of(R"({"stream":"S","seq":12})");
  CHECK(stored.stored);
  const auto duplicate = publish_reply_of(R"({"stream":"S","seq":12,"duplicate":true})");
  CHECK(duplicate.stored);
  // A stream named "error" is still a stored reply.
  CHECK(publish_reply_of(R"({"stream":"error","seq":3})").stored);

  const auto refused = publish_reply_of(
      R"({"error":{"code":400,"err_code":10070,"description":"wrong last msg ID: \"a:1\""},"stream":"S","seq":0})");
  CHECK_FALSE(refused.stored);
  CHECK(refused.code == 400);
  CHECK(refused.js_code == 10070);
  CHECK(refused.description == "wrong last msg ID: \"a:1\"");

  const auto nonsense = publish_reply_of("not json");
  CHECK_FALSE(nonsense.stored);
  CHECK(nonsense.description == "not json");
}

TEST_CASE("an HPUB frame: header and total sizes that match its headers and payload") {
  const std::string payload = "hello";
  const auto bytes = std::as_bytes(std::span(payload));
  std::string out;
  append_hpub(out, "orders", "_INBOX.x.7", "ab:16", 41, bytes);
  const std::string headers = "NATS/1.0\r\nRingfile-Origin: ab:16\r\nNats-Expected-Last-Sequence: 41\r\n\r\n";
  CHECK(out == "HPUB orders _INBOX.x.7 " + std::to_string(headers.size()) + " " +
                   std::to_string(headers.size() + payload.size()) + "\r\n" + headers + "hello\r\n");

  // An empty payload is a message too; frames follow each other in the buffer.
  append_hpub(out, "orders", "_INBOX.x.8", "ab:24", 18446744073709551615ULL, {});
  const std::string empty = "NATS/1.0\r\nRingfile-Origin: ab:24\r\nNats-Expected-Last-Sequence: 18446744073709551615\r\n\r\n";
  CHECK(out.ends_with("HPUB orders _INBOX.x.8 " + std::to_string(empty.size()) + " " + std::to_string(empty.size()) +
                      "\r\n" + empty + "\r\n"));
}
