// The records `ringfile-bridge out` has published and JetStream has not acknowledged yet, in ring
// order, each with its payload (to be sent again after a failure). The publishing connection
// (wire_publisher.hpp) numbers each message with a token that its reply carries; the bridge hands
// each reply to the window and learns from it how far its ring cursor may be committed: up to the
// oldest record not yet acknowledged. One thread: the bridge's.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "nats_session.hpp"
#include "wire_protocol.hpp"

namespace ringfile::bridge {

// A record's message that is not (or not known to be) in the stream: read and not sent yet,
// refused, or taken back after a failure. Kept to be sent in ring order.
struct UnsentMessage {
  std::uint64_t position = 0;
  std::vector<std::byte> payload;
};

class PublishWindow {
 public:
  // A record's message handed to the connection, its reply to carry `token`. Positions and
  // tokens only increase, tokens by one from message to message.
  void published(std::uint64_t position, std::uint64_t token, std::vector<std::byte> payload);
  // JetStream's reply for `token`; one for a message no longer waited for (taken back) is ignored.
  void replied(std::uint64_t token, const PublishReply& reply);
  // The connection failed: the failure to recover from, unless one is there already.
  void connection_failed(const NatsFailure& failure);

  std::size_t size() const noexcept { return entries_.size(); }
  std::uint64_t payload_bytes() const noexcept { return payload_bytes_; }
  std::optional<std::uint64_t> oldest_position() const;
  // Whether the oldest record still waiting was published before `moment`.
  bool oldest_sent_before(std::chrono::steady_clock::time_point moment) const;
  // The first failure since the last take_unstored(), if any.
  const std::optional<NatsFailure>& failure() const noexcept { return failure_; }
  // Records acknowledged (stored, or found already stored) since the start, and their bytes.
  std::uint64_t acknowledged() const noexcept { return acknowledged_; }
  std::uint64_t acknowledged_bytes() const noexcept { return acknowledged_bytes_; }

  // Recovery, once the connection is gone (no reply can come for any message in the window):
  // hands over, in ring order, the messages of the records after `last_stored` (the last
  // position of this ring the stream holds) that were not acknowledged, counts the others as
  // acknowledged, and empties the window.
  std::vector<UnsentMessage> take_unstored(std::optional<std::uint64_t> last_stored);

 private:
  enum class State { pending, acknowledged, refused };
  struct Entry {
    std::uint64_t position = 0;
    std::uint64_t token = 0;
    State state = State::pending;
    std::vector<std::byte> payload;  // freed once acknowledged
    std::chrono::steady_clock::time_point sent_at;
  };

  void pop_acknowledged();

  std::deque<Entry> entries_;
  std::uint64_t payload_bytes_ = 0;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t acknowledged_bytes_ = 0;
  std::optional<NatsFailure> failure_;
};

}  // namespace ringfile::bridge
