// ringfile-bridge out (out_bridge.hpp): the bridge's state, shared by the reading and sending in
// out_bridge.cpp and the exactly-once chain in out_chain.cpp (anchors, chained publishes, resync
// and recovery after failures and outages).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "bridge_report.hpp"
#include "message_origin.hpp"
#include "nats_session.hpp"
#include "out_bridge.hpp"
#include "publish_window.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/programs/program.hpp"
#include "stream_setup.hpp"
#include "wire_publisher.hpp"

namespace ringfile::bridge::out {

using Clock = std::chrono::steady_clock;
using programs::RuntimeFailure;

inline constexpr std::size_t kPollBatch = 256;
inline constexpr std::chrono::milliseconds kIdleWait{100};
inline constexpr std::chrono::milliseconds kAckWaitSlice{2};
inline constexpr std::chrono::milliseconds kFirstBackoff{100};
inline constexpr std::chrono::milliseconds kLongestBackoff{5000};
inline constexpr std::chrono::milliseconds kFirstAttemptTimeout{1000};
// After a refused chain, how often the stream's last sequence is compared with a fresh resync
// before a stream that keeps moving is taken for another publisher's, and the first pause between.
inline constexpr int kSettleLooks = 8;
inline constexpr std::chrono::milliseconds kSettlePause{20};
// Room for the headers of a message (its id, the expected last id or subject sequence).
inline constexpr std::uint64_t kHeaderAllowance = 256;

// What the stream holds on the bridge's subject.
struct StreamPosition {
  std::uint64_t subject_sequence = 0;          // of the subject's last message; 0: none
  std::optional<std::uint64_t> last_position;  // of this ring's record in that message
  bool last_is_ours = true;                    // no message, or one from this ring
};

class OutBridge {
 public:
  // Connects, creates or checks the stream, and opens the publishing connection.
  explicit OutBridge(const OutSettings& settings);

  int run();

 private:
  std::function<void(const std::string&)> notice() {
    return [this](const std::string& text) { reporter_.notice(text); };
  }

  void attach();

  // Reads what the window has room for into the send queue. False when nothing was read.
  bool read_records();

  // Records are counted by their producers' sequence numbers, which a cursor lapped while the
  // bridge was away cannot see (the records after it come from a sequence it never knew): then
  // only the bytes skipped tell the loss, as for ringfile-consumer.
  void report_losses();

  // Sends what the queue holds, as far as the window allows. False (with pending_failure_) when a
  // send failed; the message stays at the front of the queue.
  bool send_queued();

  // The first message after a (re)start: sent alone, expecting the subject's last sequence the
  // bridge just read, and waited for.
  bool publish_anchor(UnsentMessage& unsent);

  // Every other message: on the publishing connection, expecting its predecessor to be the
  // stream's last, its reply read later (collect_replies).
  bool publish_chained(UnsentMessage& unsent);

  // Hands the replies the publishing connection has to the window, waiting up to `timeout` for
  // one when none is there; a broken connection is a failure for the window to report.
  void collect_replies(std::chrono::milliseconds timeout);

  // Opens the publishing connection. False (with last_failure_) when no server took it now;
  // throws RuntimeFailure when one refused it (credentials, TLS).
  bool connect_publisher();

  // Asks the stream where this ring's records stop. False (with last_failure_) when it cannot.
  bool resync(std::optional<std::chrono::milliseconds> timeout = std::nullopt);

  // The stream's last sequence over all subjects; nullopt when it cannot tell now.
  std::optional<std::uint64_t> stream_last_sequence();

  // After a refusal of the chain: refuses to go on when the stream's last message is not this
  // bridge's, that is when another publisher writes to the stream (the chain needs it alone).
  // A message can land between the resync and this look: a late publish of this bridge's own
  // killed predecessor, whose connection the server was still reading. Then the stream moved past
  // what the resync read, and the resync is taken again (going on from the older one would send
  // that message's records twice). False when the resync cannot be taken again now.
  bool settle_after_chain_refusal();

  // After a failure: drops the publishing connection (so no reply or late message comes from it),
  // waits (with backoff) until the stream can say where this ring's records stop and a new
  // connection is open, and queues what follows to be sent again in order. False when asked to
  // stop meanwhile.
  bool recover(NatsFailure failure);

  void begin_outage(const NatsFailure& failure);

  void end_outage();

  // The cursor moves to the oldest record not yet known to be in the stream.
  void commit_cursor();

  bool should_stop() const;

  void wait_for_work();

  // On a stop: waits (up to the acknowledgement timeout) for what is in flight, without sending
  // anything again, and commits what was acknowledged. The rest is sent on the next start.
  void finish();

  std::uint64_t acknowledged() const noexcept { return window_.acknowledged() + anchored_; }

  int run_until_stopped();
  BridgeTotals totals() const {
    BridgeTotals totals;
    totals.records = records_read_;
    totals.bytes = bytes_read_;
    totals.in_flight = window_.size() + queue_.size();
    totals.acknowledged = acknowledged();
    totals.retries = retries_;
    totals.skipped = skipped_;
    totals.ring_lag_bytes = consumer_->lag().bytes;
    totals.lost_records = consumer_->stats().lost_records - lost_at_attach_;
    totals.lost_bytes = consumer_->stats().lost_bytes - lost_bytes_at_attach_;
    totals.position = unsendable_at_ ? std::min(consumer_->position(), *unsendable_at_) : consumer_->position();
    return totals;
  }

  const OutSettings& settings_;
  Ring ring_;
  std::string identity_;
  PublishWindow window_;
  BridgeReporter reporter_;
  std::unique_ptr<NatsSession> session_;
  std::unique_ptr<WirePublisher> publisher_;
  std::size_t next_url_ = 0;        // the server the next publishing connection tries first
  std::uint64_t next_token_ = 0;    // of the next message on the publishing connection
  std::optional<Consumer> consumer_;

  std::deque<UnsentMessage> queue_;  // read (or taken back), not yet handed to the client
  std::uint64_t chain_last_sequence_ = 0;  // the stream sequence the last message sent is to get
  bool anchor_needed_ = true;
  StreamPosition stream_position_;
  std::optional<std::uint64_t> skip_through_;  // records up to here are in the stream already
  std::optional<NatsFailure> pending_failure_;
  NatsFailure last_failure_;
  std::optional<std::uint64_t> unsendable_at_;  // a record too large for NATS, where the cursor stops
  std::optional<Clock::time_point> outage_started_;
  std::chrono::milliseconds outage_backoff_ = kFirstBackoff;  // before the next recovery in one outage
  std::uint64_t resent_in_outage_ = 0;

  Clock::time_point last_record_at_;
  Clock::time_point next_loss_notice_;
  std::uint64_t records_read_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t anchored_ = 0;  // acknowledged outside the window (first messages, late finds)
  std::uint64_t anchored_bytes_ = 0;
  std::uint64_t retries_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t lost_at_attach_ = 0;
  std::uint64_t lost_bytes_at_attach_ = 0;
  std::uint64_t lost_reported_ = 0;
  std::uint64_t lost_bytes_reported_ = 0;
  std::uint64_t max_payload_ = 0;  // the server's largest message, headers included
};

}  // namespace ringfile::bridge::out
