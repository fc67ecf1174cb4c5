// The records `ringfile-bridge out` has published and JetStream has not acknowledged yet, in ring
// order. The NATS client reports each acknowledgement or failure on its own thread (ack_handler);
// the bridge's thread applies the reports (collect) and learns from the window how far its ring
// cursor may be committed: up to the oldest record not yet acknowledged.
#pragma once

#include <nats/nats.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "nats_session.hpp"

namespace ringfile::bridge {

// A record's message that is not (or not known to be) in the stream: failed, or taken back from
// the client. Kept to be sent again in the same order.
struct UnsentMessage {
  std::uint64_t position = 0;
  std::uint32_t bytes = 0;
  MessagePtr message;
  // Sent as the first message of a run once: carries its expectation header, which a message
  // sent in the chain must not.
  bool carries_anchor_expectation = false;
};

class PublishWindow {
 public:
  // Passed as the session's ack handler with the window as closure. Runs on the client's thread.
  static void ack_handler(jsCtx* jetstream, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure);

  // @pre the bridge's thread, for all of the following.
  // Before a record's message is handed to the client: its acknowledgement may come before
  // js_PublishMsgAsync returns. The handler finds the record by the message's address (the
  // client hands the same message back), instead of parsing the message's headers again, which
  // took a tenth of the bridge's time. forget() when the client refused the message.
  void expect(natsMsg* message, std::uint64_t position);
  void forget(natsMsg* message);
  // A record handed to the client (js_PublishMsgAsync accepted it). Positions only increase.
  void published(std::uint64_t position, std::uint32_t bytes);
  // Applies the client's reports; waits up to `timeout` for one when there is none yet.
  void collect(std::chrono::milliseconds timeout);

  std::size_t size() const noexcept { return entries_.size(); }
  std::uint64_t payload_bytes() const noexcept { return payload_bytes_; }
  std::optional<std::uint64_t> oldest_position() const;
  // Whether the oldest record still waiting was published before `moment`.
  bool oldest_sent_before(std::chrono::steady_clock::time_point moment) const;
  // The first failure reported since the last take_unstored(), if any.
  const std::optional<NatsFailure>& failure() const noexcept { return failure_; }
  // Records acknowledged (stored, or found already stored) since the start, and their bytes.
  std::uint64_t acknowledged() const noexcept { return acknowledged_; }
  std::uint64_t acknowledged_bytes() const noexcept { return acknowledged_bytes_; }

  // Recovery. Takes every message still pending back from the client (late acknowledgements of
  // them are then ignored by the client) and waits until each record is either acknowledged or
  // in hand. Then take_unstored() hands over, in ring order, the messages of the records after
  // `last_stored` (the last position of this ring the stream holds), counts those up to it as
  // acknowledged, and empties the window.
  void take_back_pending(jsCtx* jetstream);
  std::vector<UnsentMessage> take_unstored(std::optional<std::uint64_t> last_stored);
  // At the end: destroy_messages() while the client library is open (it frees messages through
  // its own collector), abandon_messages() after it is closed, for any a late report brought.
  void destroy_messages();
  void abandon_messages();

 private:
  enum class State { pending, acknowledged, in_hand };
  struct Entry {
    std::uint64_t position = 0;
    std::uint32_t bytes = 0;
    State state = State::pending;
    MessagePtr message;  // in_hand: the message to send again
    std::chrono::steady_clock::time_point sent_at;
  };
  struct Report {
    std::uint64_t position = 0;
    bool stored = false;
    MessagePtr returned;  // a failed message, handed back by the client
    NatsFailure failure;
  };

  struct Awaited {
    natsMsg* message = nullptr;
    std::uint64_t position = 0;
  };

  // Under the mutex: the position of a message the client hands back, which it no longer awaits.
  std::optional<std::uint64_t> take_awaited(natsMsg* message);
  void apply(Report& report);
  Entry* find(std::uint64_t position);
  void pop_acknowledged();

  // Shared with the client's thread: its reports, under the mutex.
  std::mutex mutex_;
  std::condition_variable reported_;
  std::vector<Report> reports_;
  bool collector_waiting_ = false;
  // Messages with the client, in the order they were handed over (acknowledgements come in that
  // order: the one looked for is nearly always the first).
  std::deque<Awaited> awaited_;

  // The bridge's thread only.
  std::deque<Entry> entries_;
  std::uint64_t payload_bytes_ = 0;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t acknowledged_bytes_ = 0;
  std::optional<NatsFailure> failure_;
  std::vector<Report> applying_;
};

}  // namespace ringfile::bridge
