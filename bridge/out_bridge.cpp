#include "out_bridge.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "bridge_report.hpp"
#include "message_origin.hpp"
#include "nats_session.hpp"
#include "publish_window.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "stream_setup.hpp"

namespace ringfile::bridge {
namespace {

using Clock = std::chrono::steady_clock;
using programs::RuntimeFailure;

constexpr std::size_t kPollBatch = 256;
constexpr std::chrono::milliseconds kIdleWait{100};
constexpr std::chrono::milliseconds kAckWaitSlice{2};
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kLongestBackoff{5000};
constexpr std::chrono::milliseconds kFirstAttemptTimeout{1000};
// After a refused chain, how often the stream's last sequence is compared with a fresh resync
// before a stream that keeps moving is taken for another publisher's, and the first pause between.
constexpr int kSettleLooks = 8;
constexpr std::chrono::milliseconds kSettlePause{20};
// Room for the headers of a message (its id, the expected last id or subject sequence).
constexpr std::uint64_t kHeaderAllowance = 256;
// Headers the bridge sets according to a message's role; cleared before it is sent again.
constexpr const char* kExpectedLastMsgIdHeader = "Nats-Expected-Last-Msg-Id";
constexpr const char* kExpectedLastSubjectSequenceHeader = "Nats-Expected-Last-Subject-Sequence";

// What the stream holds on the bridge's subject.
struct StreamPosition {
  std::uint64_t subject_sequence = 0;          // of the subject's last message; 0: none
  std::optional<std::uint64_t> last_position;  // of this ring's record in that message
  bool last_is_ours = true;                    // no message, or one from this ring
};

class OutBridge {
 public:
  OutBridge(const OutSettings& settings, PublishWindow& window)
      : settings_(settings),
        ring_(Ring::open(settings.ring)),
        identity_(ring_identity(ring_.info())),
        window_(window),
        reporter_("out", settings.report) {
    SessionOptions options;
    options.urls = settings.stream.urls;
    options.client_name = "ringfile-bridge out " + settings.ring.string();
    options.request_timeout = settings.stream.request_timeout;
    options.ack_handler = &PublishWindow::ack_handler;
    options.ack_handler_closure = &window_;
    options.max_pending = static_cast<std::int64_t>(settings.max_in_flight) + 64;
    session_ = std::make_unique<NatsSession>(options);
    retry_while_transient(*session_, notice(), [&] { return ensure_stream(*session_, settings.stream); });
    max_payload_ = static_cast<std::uint64_t>(natsConnection_GetMaxPayload(session_->connection()));
  }

  int run() {
    retry_while_transient(*session_, notice(), [&] {
      if (!resync()) {
        fail("cannot read the last message of subject '" + settings_.stream.subject + "' in stream '" +
                 settings_.stream.stream + "'",
             last_failure_);
      }
    });
    if (!stream_position_.last_is_ours) {
      reporter_.notice("the last message on '" + settings_.stream.subject +
                       "' comes from another ring; this ring's records follow it");
    }
    skip_through_ = stream_position_.last_position;
    attach();
    const Clock::time_point started = Clock::now();
    last_record_at_ = started;
    for (;;) {
      window_.collect(std::chrono::milliseconds(0));
      if (const auto& failure = window_.failure()) {
        if (!recover(*failure)) break;
      } else if (window_.oldest_sent_before(Clock::now() - settings_.ack_timeout)) {
        if (!recover(NatsFailure{NATS_TIMEOUT, 0, "no acknowledgement within --ack-timeout"})) break;
      }
      if (!send_queued()) {
        if (!recover(*pending_failure_)) break;
        continue;
      }
      commit_cursor();
      if (reporter_.progress_due()) reporter_.show_progress(totals());
      if (should_stop(started)) break;
      if (!read_records()) wait_for_work();
    }
    finish();
    const BridgeTotals final_totals = totals();
    reporter_.summary(final_totals, programs::kExitSuccess);
    return programs::kExitSuccess;
  }

 private:
  std::function<void(const std::string&)> notice() {
    return [this](const std::string& text) { reporter_.notice(text); };
  }

  void attach() {
    ConsumerOptions options;
    options.name = settings_.name;
    options.start = settings_.start;
    options.seek = settings_.seek;
    options.auto_commit = false;  // only what JetStream acknowledged is committed
    consumer_.emplace(Consumer::attach(ring_, options));
    lost_at_attach_ = consumer_->stats().lost_records;
    lost_bytes_at_attach_ = consumer_->stats().lost_bytes;
    lost_reported_ = lost_at_attach_;
    lost_bytes_reported_ = lost_bytes_at_attach_;
  }

  // Reads what the window has room for into the send queue. False when nothing was read.
  bool read_records() {
    if (!queue_.empty()) return false;
    const std::size_t unconfirmed = window_.size() + queue_.size();
    if (unconfirmed >= settings_.max_in_flight || window_.payload_bytes() >= settings_.max_in_flight_bytes) {
      return false;
    }
    std::size_t wanted = std::min<std::size_t>(kPollBatch, settings_.max_in_flight - unconfirmed);
    if (settings_.stop.count) {
      if (records_read_ >= *settings_.stop.count) return false;
      wanted = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, *settings_.stop.count - records_read_));
    }
    // The first message after a (re)start is sent on its own, and waited for.
    if (anchor_needed_) wanted = 1;
    bool out_of_memory = false;
    // A record NATS cannot carry stops the bridge; nothing after it is queued, to keep the order.
    std::optional<std::pair<std::uint64_t, std::size_t>> too_large;
    const PollResult polled = consumer_->poll(
        [&](const Record& record) {
          if (skip_through_ && record.position <= *skip_through_) {
            skipped_ += 1;
            return;
          }
          if (too_large || record.payload.size() + kHeaderAllowance > max_payload_) {
            if (!too_large) too_large.emplace(record.position, record.payload.size());
            return;
          }
          natsMsg* message = nullptr;
          if (natsMsg_Create(&message, settings_.stream.subject.c_str(), nullptr,
                             reinterpret_cast<const char*>(record.payload.data()),
                             static_cast<int>(record.payload.size())) != NATS_OK) {
            natsMsg_Destroy(message);
            out_of_memory = true;
            return;
          }
          queue_.push_back(UnsentMessage{record.position, static_cast<std::uint32_t>(record.payload.size()),
                                         MessagePtr(message)});
          records_read_ += 1;
          bytes_read_ += record.payload.size();
        },
        wanted);
    if (out_of_memory) throw RuntimeFailure("out of memory building a NATS message; lower --max-in-flight-bytes");
    if (too_large) {
      throw RuntimeFailure("the record at position " + std::to_string(too_large->first) + " of '" +
                           settings_.ring.string() + "' holds " +
                           programs::format_bytes(static_cast<double>(too_large->second)) +
                           ", more than a NATS message carries here (" +
                           programs::format_bytes(static_cast<double>(max_payload_ - kHeaderAllowance)) +
                           " with the bridge's headers); raise max_payload in the nats-server configuration");
    }
    if (polled.status == PollStatus::corrupt) throw RuntimeFailure(polled.error_message);
    report_losses();
    if (polled.records == 0) return false;
    last_record_at_ = Clock::now();
    return true;
  }

  // Records are counted by their producers' sequence numbers, which a cursor lapped while the
  // bridge was away cannot see (the records after it come from a sequence it never knew): then
  // only the bytes skipped tell the loss, as for ringfile-consumer.
  void report_losses() {
    const std::uint64_t lost = consumer_->stats().lost_records;
    const std::uint64_t lost_bytes = consumer_->stats().lost_bytes;
    if ((lost == lost_reported_ && lost_bytes == lost_bytes_reported_) || Clock::now() < next_loss_notice_) return;
    reporter_.notice("lost " + std::to_string(lost - lost_reported_) + " records (" +
                     programs::format_bytes(static_cast<double>(lost_bytes - lost_bytes_reported_)) +
                     ") to lapping before they were read (the ring's overwrite policy; they never reached the "
                     "stream)");
    lost_reported_ = lost;
    lost_bytes_reported_ = lost_bytes;
    next_loss_notice_ = Clock::now() + std::chrono::seconds(1);
  }

  // Sends what the queue holds, as far as the window allows. False (with pending_failure_) when a
  // send failed; the message stays at the front of the queue.
  bool send_queued() {
    while (!queue_.empty()) {
      UnsentMessage& unsent = queue_.front();
      if (anchor_needed_) {
        if (!publish_anchor(unsent)) return false;
      } else {
        if (window_.size() >= settings_.max_in_flight || window_.payload_bytes() >= settings_.max_in_flight_bytes) {
          return true;
        }
        if (!publish_chained(unsent)) return false;
      }
      queue_.pop_front();
    }
    return true;
  }

  // The first message after a (re)start: sent alone, expecting the subject's last sequence the
  // bridge just read, and waited for.
  bool publish_anchor(UnsentMessage& unsent) {
    natsMsg* message = unsent.message.get();
    natsMsgHeader_Delete(message, kExpectedLastMsgIdHeader);
    natsMsgHeader_Delete(message, kExpectedLastSubjectSequenceHeader);
    const std::string id = message_id(identity_, unsent.position);
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MsgId = id.c_str();
    options.MaxWait = settings_.ack_timeout.count();
    if (stream_position_.subject_sequence == 0) {
      options.ExpectNoMessage = true;
    } else {
      options.ExpectLastSubjectSeq = stream_position_.subject_sequence;
    }
    jsPubAck* ack = nullptr;
    jsErrCode js_code{};
    unsent.carries_anchor_expectation = true;
    const natsStatus status = js_PublishMsg(&ack, session_->jetstream(), message, &options, &js_code);
    if (status != NATS_OK) {
      pending_failure_ = failure_of(status, js_code);
      return false;
    }
    jsPubAck_Destroy(ack);
    anchored_ += 1;
    anchored_bytes_ += unsent.bytes;
    anchor_needed_ = false;
    chain_last_id_ = id;
    reporter_.first_record_done();
    end_outage();
    return true;
  }

  // Every other message: asynchronous, expecting its predecessor to be the stream's last.
  bool publish_chained(UnsentMessage& unsent) {
    // (Deleting a header that is not there costs a lookup per message: only after an anchor try.)
    if (unsent.carries_anchor_expectation) {
      natsMsgHeader_Delete(unsent.message.get(), kExpectedLastSubjectSequenceHeader);
      unsent.carries_anchor_expectation = false;
    }
    const std::string id = message_id(identity_, unsent.position);
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MsgId = id.c_str();
    options.ExpectLastMsgId = chain_last_id_.c_str();
    // No MaxWait here: the client keeps a timer per message for it. The window times out the
    // oldest message instead (see run()).
    natsMsg* message = unsent.message.release();
    natsMsg* const handed = message;  // the client sets `message` to null when it takes it
    window_.expect(handed, unsent.position);
    const natsStatus status = js_PublishMsgAsync(session_->jetstream(), &message, &options);
    if (status != NATS_OK) {
      window_.forget(handed);
      unsent.message.reset(handed);  // refused: still ours
      pending_failure_ = failure_of(status, jsErrCode{});
      return false;
    }
    window_.published(unsent.position, unsent.bytes);
    chain_last_id_ = id;
    return true;
  }

  // Asks the stream where this ring's records stop. False (with last_failure_) when it cannot.
  bool resync(std::optional<std::chrono::milliseconds> timeout = std::nullopt) {
    jsOptions options = request_options(*session_);
    if (timeout) options.Wait = timeout->count();
    natsMsg* raw = nullptr;
    jsErrCode js_code{};
    const natsStatus status = js_GetLastMsg(&raw, session_->jetstream(), settings_.stream.stream.c_str(),
                                            settings_.stream.subject.c_str(), &options, &js_code);
    MessagePtr last(raw);
    if (status == NATS_OK) {
      stream_position_.subject_sequence = natsMsg_GetSequence(last.get());
      const std::optional<MessageOrigin> origin = origin_of(last.get());
      stream_position_.last_is_ours = origin && origin->ring_identity == identity_;
      stream_position_.last_position =
          stream_position_.last_is_ours ? std::optional<std::uint64_t>(origin->position) : std::nullopt;
      return true;
    }
    if (js_code == kJsNoMessageFound) {
      stream_position_ = StreamPosition{};
      return true;
    }
    if (js_code == kJsStreamNotFound) {
      try {
        ensure_stream(*session_, settings_.stream);  // deleted under us: created again, empty
      } catch (const TransientFailure& failure) {
        last_failure_ = NatsFailure{NATS_TIMEOUT, 0, failure.what()};
        return false;
      }
      stream_position_ = StreamPosition{};
      return true;
    }
    last_failure_ = failure_of(status, js_code);
    return false;
  }

  // The stream's last sequence over all subjects; nullopt when it cannot tell now.
  std::optional<std::uint64_t> stream_last_sequence() {
    jsOptions options = request_options(*session_);
    jsStreamInfo* info = nullptr;
    jsErrCode js_code{};
    if (js_GetStreamInfo(&info, session_->jetstream(), settings_.stream.stream.c_str(), &options, &js_code) != NATS_OK) {
      return std::nullopt;
    }
    const std::uint64_t last_sequence = info->State.LastSeq;
    jsStreamInfo_Destroy(info);
    return last_sequence;
  }

  // After a refusal of the chain: refuses to go on when the stream's last message is not this
  // bridge's, that is when another publisher writes to the stream (the chain needs it alone).
  // A message can land between the resync and this look: a late publish of this bridge's own
  // killed predecessor, whose connection the server was still reading. Then the stream moved past
  // what the resync read, and the resync is taken again (going on from the older one would send
  // that message's records twice). False when the resync cannot be taken again now.
  bool settle_after_chain_refusal() {
    std::chrono::milliseconds pause = kSettlePause;
    for (int look = 1;; ++look) {
      const std::optional<std::uint64_t> last_sequence = stream_last_sequence();
      if (!last_sequence) return true;  // cannot tell now; a further refusal asks again
      if (*last_sequence == stream_position_.subject_sequence) {
        if (stream_position_.last_is_ours) return true;
        break;
      }
      if (look == kSettleLooks) break;  // still moving: someone else keeps publishing
      if (programs::stop_requested()) return false;
      std::this_thread::sleep_for(pause);  // lets a late message land; not a synchronisation
      pause *= 2;
      if (!resync()) return false;
    }
    throw RuntimeFailure("stream '" + settings_.stream.stream +
                         "' receives messages from another publisher (its last message is not this bridge's); "
                         "ringfile-bridge out keeps the order by chaining each message to the one before, which "
                         "needs a stream of its own: give each ring its own --stream");
  }

  // After a failure: takes every unacknowledged message back, waits (with backoff) until the
  // stream can say where this ring's records stop, and queues what follows to be sent again in
  // order. False when asked to stop meanwhile.
  bool recover(NatsFailure failure) {
    const bool chain_refused = failure.js_code == kJsWrongLastMsgId;
    begin_outage(failure);
    window_.take_back_pending(session_->jetstream());
    std::chrono::milliseconds backoff = kFirstBackoff;
    // While JetStream recovers, a request may go unanswered: ask often with a short timeout at
    // first, then longer, up to --request-timeout.
    std::chrono::milliseconds attempt_timeout = std::min(kFirstAttemptTimeout, session_->request_timeout());
    while (!resync(attempt_timeout) || (chain_refused && !settle_after_chain_refusal())) {
      if (programs::stop_requested()) return false;
      begin_outage(last_failure_);
      backoff = wait_before_retry(*session_, backoff, kFirstBackoff, kLongestBackoff);
      attempt_timeout = std::min(attempt_timeout * 2, session_->request_timeout());
    }
    std::vector<UnsentMessage> unstored = window_.take_unstored(stream_position_.last_position);
    retries_ += unstored.size();
    if (pending_failure_) retries_ += 1;  // the message at the front of the queue was tried too
    for (auto entry = unstored.rbegin(); entry != unstored.rend(); ++entry) queue_.push_front(std::move(*entry));
    while (!queue_.empty() && stream_position_.last_position && queue_.front().position <= *stream_position_.last_position) {
      anchored_ += 1;  // stored after all (its acknowledgement was lost)
      anchored_bytes_ += queue_.front().bytes;
      queue_.pop_front();
    }
    // The stream can hold records this bridge has not read from the ring yet: the late messages
    // of a killed predecessor land after the resync at start. The ring's next records up to the
    // stream's last are skipped as at start, not sent again after it.
    if (stream_position_.last_position && (!skip_through_ || *skip_through_ < *stream_position_.last_position)) {
      skip_through_ = stream_position_.last_position;
    }
    pending_failure_.reset();
    anchor_needed_ = true;
    resent_in_outage_ += queue_.size();
    return true;
  }

  void begin_outage(const NatsFailure& failure) {
    if (outage_started_) return;
    outage_started_ = Clock::now();
    resent_in_outage_ = 0;
    reporter_.notice("JetStream did not take records (" + failure.text +
                     "); holding them in the ring and retrying with backoff, nothing is dropped");
  }

  void end_outage() {
    if (!outage_started_) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - *outage_started_).count();
    reporter_.notice("JetStream takes records again after " + programs::format_seconds(seconds) + "; " +
                     std::to_string(resent_in_outage_) + " records sent again in order");
    outage_started_.reset();
  }

  // The cursor moves to the oldest record not yet known to be in the stream.
  void commit_cursor() {
    std::uint64_t confirmed = consumer_->position();
    if (const auto oldest = window_.oldest_position()) {
      confirmed = *oldest;
    } else if (!queue_.empty()) {
      confirmed = queue_.front().position;
    }
    consumer_->commit(confirmed);
  }

  bool should_stop(Clock::time_point started) const {
    if (programs::stop_requested()) return true;
    const Clock::time_point now = Clock::now();
    if (settings_.stop.duration && now - started >= *settings_.stop.duration) return true;
    const bool settled = window_.size() == 0 && queue_.empty() && !outage_started_;
    if (!settled) return false;
    if (settings_.stop.count && acknowledged() >= *settings_.stop.count) return true;
    return settings_.stop.until_idle && now - last_record_at_ >= *settings_.stop.until_idle;
  }

  void wait_for_work() {
    if (window_.size() > 0) {
      // Acknowledgements are due; the ring is looked at again soon after.
      window_.collect(kAckWaitSlice);
      if (window_.size() >= settings_.max_in_flight) return;
      consumer_->wait(std::chrono::milliseconds(0));
      return;
    }
    consumer_->wait(kIdleWait);
  }

  // On a stop: waits (up to the acknowledgement timeout) for what is in flight, without sending
  // anything again, and commits what was acknowledged. The rest is sent on the next start.
  void finish() {
    const Clock::time_point deadline = Clock::now() + settings_.ack_timeout;
    while (window_.size() > 0 && !window_.failure() && Clock::now() < deadline && programs::stop_requests() < 2) {
      window_.collect(std::chrono::milliseconds(10));
    }
    commit_cursor();
    const std::size_t unconfirmed = window_.size() + queue_.size();
    if (unconfirmed > 0) {
      reporter_.notice(std::to_string(unconfirmed) +
                       " records were not acknowledged before stopping; they stay in the ring and are sent on the "
                       "next start");
    }
  }

  std::uint64_t acknowledged() const noexcept { return window_.acknowledged() + anchored_; }

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
    totals.position = consumer_->position();
    return totals;
  }

  const OutSettings& settings_;
  Ring ring_;
  std::string identity_;
  PublishWindow& window_;
  BridgeReporter reporter_;
  std::unique_ptr<NatsSession> session_;
  std::optional<Consumer> consumer_;

  std::deque<UnsentMessage> queue_;  // read (or taken back), not yet handed to the client
  std::string chain_last_id_;        // message id of the last message sent
  bool anchor_needed_ = true;
  StreamPosition stream_position_;
  std::optional<std::uint64_t> skip_through_;  // records up to here are in the stream already
  std::optional<NatsFailure> pending_failure_;
  NatsFailure last_failure_;
  std::optional<Clock::time_point> outage_started_;
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

}  // namespace

int run_out(const OutSettings& settings) {
  // The window outlives the client, which reports to it from its own threads until it is closed.
  PublishWindow window;
  const auto close_client = [&] {
    window.destroy_messages();
    nats_CloseAndWait(1000);  // joins the client's threads: no report comes after this
    window.abandon_messages();
  };
  int exit_code = programs::kExitFailure;
  try {
    OutBridge bridge(settings, window);
    exit_code = bridge.run();
  } catch (...) {
    close_client();
    throw;
  }
  close_client();
  return exit_code;
}

}  // namespace ringfile::bridge
