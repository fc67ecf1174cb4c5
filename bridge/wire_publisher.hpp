// The connection on which `ringfile-bridge out` publishes its chained messages: the NATS client
// protocol spoken directly over TCP, on the bridge's own thread. Each message goes out as one
// HPUB written straight into a send buffer with its two headers (origin, expected last sequence),
// replies to it come back on an inbox subscription, numbered by a token in their subject.
//
// Why not nats.c for these: its JetStream publish builds a hash table for each message's headers
// and frees it again, keeps each message in a map of its own until acknowledged and hands every
// acknowledgement through its JSON parser to a thread of its own. At 64 B that was two thirds of
// out's CPU, on a machine whose CPUs the server needs too. The session (nats_session.hpp) still
// does everything else: stream set-up, the resync, and the first message of each run.
//
// Plain TCP only, with a user and password or a token from the URL; a server that requires TLS
// is refused with one line.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "nats_session.hpp"
#include "wire_protocol.hpp"

namespace ringfile::bridge {

class WirePublisher {
 public:
  using ReplyHandler = std::function<void(std::uint64_t token, const PublishReply& reply)>;

  // Connects to the first server of `urls` that answers, from `*next_url` on (then `*next_url`
  // names the one after it, for the next connection to try first), and subscribes to an inbox
  // for the replies. Null with `*failure` set when none could be used: transient when no server
  // answered, not when one refused us or the URLs cannot be used.
  static std::unique_ptr<WirePublisher> connect(const std::vector<std::string>& urls, std::size_t* next_url,
                                                std::string_view client_name, std::chrono::milliseconds timeout,
                                                NatsFailure* failure);
  ~WirePublisher();
  WirePublisher(const WirePublisher&) = delete;
  WirePublisher& operator=(const WirePublisher&) = delete;

  // Queues a message for `subject` (its headers: append_hpub) whose reply carries `token`; sent
  // once enough is queued, or by flush(). False when the connection is broken (failure()).
  bool publish(std::string_view subject, std::uint64_t token, std::string_view origin,
               std::uint64_t expected_last_sequence, std::span<const std::byte> payload);
  bool flush();
  // Handles what the server sent, waiting up to `timeout` for something when nothing is there;
  // each reply to a publish goes to `on_reply`. False when the connection is broken.
  bool read_replies(std::chrono::milliseconds timeout, const ReplyHandler& on_reply);

  const NatsFailure& failure() const noexcept { return failure_; }

 private:
  WirePublisher(int socket, std::string inbox, std::chrono::milliseconds timeout) noexcept;

  bool handshake(const ServerUrl& server, std::string_view client_name);
  // Reads what the socket has, waiting up to `timeout` for it. False when broken.
  bool receive(std::chrono::milliseconds timeout);
  // Handles every whole frame received; false when one broke the connection.
  bool handle_frames(const ReplyHandler& on_reply);
  bool broken(natsStatus status, std::string text);

  int socket_ = -1;
  std::string inbox_;  // replies arrive on inbox_ + "." + token
  std::chrono::milliseconds timeout_;
  std::string outgoing_;
  std::string incoming_;
  std::size_t incoming_read_ = 0;  // incoming_ up to here is handled
  bool pong_seen_ = false;          // the handshake's PING answered
  std::uint64_t replies_handled_ = 0;
  NatsFailure failure_;
};

}  // namespace ringfile::bridge
