// Pulling messages from a durable JetStream consumer by hand: pull requests published to
// $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>, messages and status replies received on an inbox
// of our own.
//
// Why not natsSubscription_Fetch: the client's (nats.c 3.4) writes past the array it collects a
// batch in when deliveries of an earlier request arrive during a leader change (found with
// AddressSanitizer while a stream's leader was killed), and it waits for a whole batch or its
// timeout. Here, a batch goes to the bridge as soon as messages are there, at most one request is
// outstanding, and the next one is sent before the bridge writes the batch, so that the server
// delivers while the ring is written.
//
// A request always gets an answer: messages, or a status when it expires (408) or cannot be served
// (409 leadership change, 503 no responders). After a stream leader's node dies, the durable's
// raft group can be left without a working leader while a server still holds its interest in
// pull requests: then requests go unanswered, no status comes, and consumer info fails with
// "JetStream system temporarily unavailable", for tens of seconds (nats-server 2.9.10). So
// silence is a failure too: requests unanswered for kUnansweredLimit are reported as such
// (`unanswered()`), and the bridge re-creates the durable, which gets a new raft group.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nats_session.hpp"

namespace ringfile::bridge {

// What the reply subject of a delivered message says: $JS.ACK.<stream>.<consumer>.<delivered>.
// <stream sequence>.<consumer sequence>.<time>.<pending> (with a domain and an account hash
// before the stream in the newer form).
struct Delivery {
  std::uint64_t stream_sequence = 0;
  std::uint64_t consumer_sequence = 0;
  std::uint64_t pending = 0;  // messages the consumer has not delivered yet
};
// Parsed in place, without the allocations of natsMsg_GetMetaData: it runs for every message.
std::optional<Delivery> delivery_of(natsMsg* message);

// @pre one thread.
class PullRequests {
 public:
  // Subscribes to a fresh inbox: deliveries for an earlier incarnation of the durable never reach
  // this one. Throws RuntimeFailure if the client refuses. The inbox is retired to `session` at
  // the end (NatsSession::retire).
  PullRequests(NatsSession& session, const std::string& stream, const std::string& durable);
  ~PullRequests();
  PullRequests(const PullRequests&) = delete;
  PullRequests& operator=(const PullRequests&) = delete;

  // Up to `batch` messages into `messages` (emptied first): those already received, else the
  // first to arrive within `wait` and any that came with them. Returns nullopt when it went
  // well (even with no message), else what the server or the client reported.
  std::optional<NatsFailure> fetch(std::vector<MessagePtr>& messages, int batch, std::chrono::milliseconds wait);

  // Acknowledgements go straight to a message's reply subject.
  void acknowledge(natsMsg* message) const;   // +ACK
  void in_progress(natsMsg* message) const;   // +WPI: still being worked on, do not deliver again

  // True when the failure `fetch` returned last was silence: no answer of any kind to the
  // requests of kUnansweredLimit.
  bool unanswered() const noexcept { return unanswered_; }
  static constexpr std::chrono::milliseconds kUnansweredLimit{3000};

 private:
  using Clock = std::chrono::steady_clock;

  // Takes one received message: a delivery goes into `messages`; a status reply ends the
  // outstanding request (and, for an error, becomes the returned failure).
  std::optional<NatsFailure> take(natsMsg* raw, std::vector<MessagePtr>& messages);
  std::optional<NatsFailure> send_request(int batch, std::chrono::milliseconds wait);
  // After a wait that brought nothing: the failure "unanswered" once requests have gone without
  // any answer for kUnansweredLimit, else nothing.
  std::optional<NatsFailure> silence();

  NatsSession& session_;
  natsConnection* connection_;
  natsSubscription* inbox_subscription_ = nullptr;
  std::string inbox_;
  std::string request_subject_;
  // The one outstanding pull request: messages it may still deliver, and when it expires.
  int outstanding_ = 0;
  Clock::time_point outstanding_until_;
  // Since when requests were sent and nothing at all came back; nullopt while answers come.
  std::optional<Clock::time_point> silent_since_;
  bool unanswered_ = false;
};

}  // namespace ringfile::bridge
