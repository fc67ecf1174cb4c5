#include "wire_protocol.hpp"

#include <charconv>

#include "message_origin.hpp"

namespace ringfile::bridge {
namespace {

// %XX escapes, as URLs carry reserved characters in user names and passwords.
std::optional<std::string> percent_decoded(std::string_view text) {
  std::string decoded;
  for (std::size_t at = 0; at < text.size(); ++at) {
    if (text[at] != '%') {
      decoded += text[at];
      continue;
    }
    unsigned value = 0;
    if (at + 2 >= text.size()) return std::nullopt;
    const auto [end, error] = std::from_chars(text.data() + at + 1, text.data() + at + 3, value, 16);
    if (error != std::errc() || end != text.data() + at + 3) return std::nullopt;
    decoded += static_cast<char>(value);
    at += 2;
  }
  return decoded;
}

// The integer after `"name":` in `json`, if there is one.
std::optional<int> integer_field(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":";
  const std::size_t found = json.find(key);
  if (found == std::string_view::npos) return std::nullopt;
  int value = 0;
  const char* start = json.data() + found + key.size();
  const auto [end, error] = std::from_chars(start, json.data() + json.size(), value);
  if (error != std::errc()) return std::nullopt;
  return value;
}

// The string after `"name":"` in `json`, its \" and \\ escapes undone.
std::optional<std::string> string_field(std::string_view json, std::string_view name) {
  const std::string key = "\"" + std::string(name) + "\":\"";
  const std::size_t found = json.find(key);
  if (found == std::string_view::npos) return std::nullopt;
  std::string text;
  for (std::size_t at = found + key.size(); at < json.size(); ++at) {
    if (json[at] == '"') return text;
    if (json[at] == '\\' && at + 1 < json.size()) ++at;
    text += json[at];
  }
  return std::nullopt;
}

}  // namespace

std::optional<ServerUrl> parse_server_url(std::string_view url, std::string* problem) {
  const auto refuse = [&](const std::string& why) -> std::optional<ServerUrl> {
    *problem = why;
    return std::nullopt;
  };
  std::string_view rest = url;
  if (const std::size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
    const std::string_view scheme = rest.substr(0, scheme_end);
    if (scheme == "tls") return refuse("tls:// is not supported: ringfile-bridge out publishes over plain TCP, without TLS");
    if (scheme != "nats") return refuse("unknown scheme '" + std::string(scheme) + "://' (use nats://)");
    rest.remove_prefix(scheme_end + 3);
  }
  if (const std::size_t path = rest.find('/'); path != std::string_view::npos) rest = rest.substr(0, path);
  ServerUrl server;
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    const std::size_t colon = credentials.find(':');
    auto user = percent_decoded(credentials.substr(0, colon));
    auto password = colon == std::string_view::npos ? std::optional<std::string>("")
                                                     : percent_decoded(credentials.substr(colon + 1));
    if (!user || !password) return refuse("a broken %-escape in the user or password");
    server.user = std::move(*user);
    server.password = std::move(*password);
    rest.remove_prefix(at + 1);
  }
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return refuse("an IPv6 address without its closing ']'");
    server.host = std::string(rest.substr(1, close - 1));
    rest.remove_prefix(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return refuse("text after the IPv6 address that is not a port");
      port_text = rest.substr(1);
    }
  } else {
    const std::size_t colon = rest.find(':');
    server.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port_text = rest.substr(colon + 1);
  }
  if (server.host.empty()) return refuse("no host");
  if (!port_text.empty() || rest.find(':') != std::string_view::npos) {
    const std::optional<std::uint64_t> port = parse_unsigned(port_text);
    if (!port || *port == 0 || *port > 65535) return refuse("port '" + std::string(port_text) + "' is not 1 to 65535");
    server.port = static_cast<std::uint16_t>(*port);
  }
  return server;
}

PublishReply publish_reply_of(std::string_view body) {
  PublishReply reply;
  const std::size_t error = body.find("\"error\":");
  if (error == std::string_view::npos) {
    reply.stored = body.find("\"seq\":") != std::string_view::npos;
    if (!reply.stored) reply.description = std::string(body);
    return reply;
  }
  const std::string_view details = body.substr(error);
  reply.code = integer_field(details, "code").value_or(0);
  reply.js_code = integer_field(details, "err_code").value_or(0);
  reply.description = string_field(details, "description").value_or(std::string(details));
  return reply;
}

void append_hpub(std::string& out, std::string_view subject, std::string_view reply_subject, std::string_view origin,
                 std::uint64_t expected_last_sequence, std::span<const std::byte> payload) {
  constexpr std::string_view kVersionLine = "NATS/1.0\r\n";
  constexpr std::string_view kExpectedLastSequenceHeader = "Nats-Expected-Last-Sequence";
  constexpr std::string_view kSeparator = ": ";
  constexpr std::string_view kLineEnd = "\r\n";
  const std::string_view origin_header = kOriginHeader;
  char sequence[24];
  const auto sequence_end = std::to_chars(sequence, sequence + sizeof(sequence), expected_last_sequence).ptr;
  const std::string_view sequence_text(sequence, static_cast<std::size_t>(sequence_end - sequence));
  const std::size_t header_bytes = kVersionLine.size() + origin_header.size() + kSeparator.size() + origin.size() +
                                   kLineEnd.size() + kExpectedLastSequenceHeader.size() + kSeparator.size() +
                                   sequence_text.size() + kLineEnd.size() + kLineEnd.size();
  out += "HPUB ";
  out += subject;
  out += ' ';
  out += reply_subject;
  out += ' ';
  out += std::to_string(header_bytes);
  out += ' ';
  out += std::to_string(header_bytes + payload.size());
  out += kLineEnd;
  out += kVersionLine;
  out += origin_header;
  out += kSeparator;
  out += origin;
  out += kLineEnd;
  out += kExpectedLastSequenceHeader;
  out += kSeparator;
  out += sequence_text;
  out += kLineEnd;
  out += kLineEnd;
  out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
  out += kLineEnd;
}

}  // namespace ringfile::bridge
