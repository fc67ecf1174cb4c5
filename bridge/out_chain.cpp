// ringfile-bridge out's exactly-once chain: the first message after a (re)start anchored on
// what the stream holds, every other one expecting its predecessor; after a refusal or a failure,
// a resync with the stream and the records after it queued again (docs/bridge.md).
#include <algorithm>
#include <thread>

#include "out_bridge_core.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::bridge::out {

bool OutBridge::publish_anchor(UnsentMessage& unsent) {
  // Through the session, waited for: one message a run, where the client's synchronous publish
  // and its expectation options serve.
  natsMsg* raw = nullptr;
  if (natsMsg_Create(&raw, settings_.stream.subject.c_str(), nullptr, reinterpret_cast<const char*>(unsent.payload.data()),
                     static_cast<int>(unsent.payload.size())) != NATS_OK) {
    natsMsg_Destroy(raw);
    throw RuntimeFailure("out of memory building a NATS message");
  }
  const MessagePtr message(raw);
  const std::string origin = origin_text(identity_, unsent.position);
  if (natsMsgHeader_Set(message.get(), kOriginHeader, origin.c_str()) != NATS_OK) {
    throw RuntimeFailure("out of memory building a NATS message");
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = settings_.ack_timeout.count();
  // Three guards against a message of an earlier run still on its way. The subject's last
  // sequence, as the resync read it; the same as the stream's last sequence, which a replicated
  // stream's leader checks against the messages it is still replicating too (the subject's is
  // checked against what is stored only); and the origin as message id, so that the first
  // message of a killed run arriving late is a duplicate of this one (one id per run for
  // JetStream to keep, not one per message).
  options.MsgId = origin.c_str();
  if (stream_position_.subject_sequence == 0) {
    options.ExpectNoMessage = true;
  } else {
    options.ExpectLastSubjectSeq = stream_position_.subject_sequence;
    options.ExpectLastSeq = stream_position_.subject_sequence;
  }
  jsPubAck* ack = nullptr;
  jsErrCode js_code{};
  const natsStatus status = js_PublishMsg(&ack, session_->jetstream(), message.get(), &options, &js_code);
  if (status != NATS_OK) {
    pending_failure_ = failure_of(status, js_code);
    return false;
  }
  chain_last_sequence_ = ack->Sequence;
  jsPubAck_Destroy(ack);
  anchored_ += 1;
  anchored_bytes_ += unsent.payload.size();
  anchor_needed_ = false;
  reporter_.first_record_done();
  end_outage();
  return true;
}

bool OutBridge::publish_chained(UnsentMessage& unsent) {
  const std::string origin = origin_text(identity_, unsent.position);
  if (!publisher_->publish(settings_.stream.subject, next_token_, origin, chain_last_sequence_, unsent.payload)) {
    pending_failure_ = publisher_->failure();  // the message stays at the front of the queue
    return false;
  }
  window_.published(unsent.position, next_token_, std::move(unsent.payload));
  next_token_ += 1;
  chain_last_sequence_ += 1;  // where this message lands, if JetStream stores it
  return true;
}

bool OutBridge::resync(std::optional<std::chrono::milliseconds> timeout) {
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
    // A message this bridge sent holds the position of a record it read, below the ring's head
    // (which only grows). One that names this ring and a position not written yet was not sent
    // from it: anyone who may publish on the subject can copy the ring's identity, and taking
    // such a position for ours would skip the ring's records up to it.
    stream_position_.last_is_ours =
        origin && origin->ring_identity == identity_ && origin->position < ring_.head_position();
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

std::optional<std::uint64_t> OutBridge::stream_last_sequence() {
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

bool OutBridge::settle_after_chain_refusal() {
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

bool OutBridge::recover(NatsFailure failure) {
  if (failure.status == NATS_NOT_PERMITTED) fail("JetStream refused the bridge's messages", failure);
  // Wrong last sequence: a chained message found the stream elsewhere than the chain expects (or
  // the first one found the subject elsewhere than the resync read it).
  const bool chain_refused = failure.js_code == kJsWrongLastSequence || failure.js_code == kJsWrongLastMsgId;
  // Failing again before anything was taken (the first message after the last recovery refused
  // too: a stream full with discard new) is the same outage: back off before the next try. It
  // went on at once, a new connection and a refusal some 440 times a second, and looked at no
  // stop request (found by a tester).
  if (outage_started_) {
    if (programs::stop_requested()) return false;
    outage_backoff_ = wait_before_retry(*session_, outage_backoff_, kFirstBackoff, kLongestBackoff);
    if (programs::stop_requested()) return false;
  }
  begin_outage(failure);
  // Nothing more is read from the old connection, nor sent: what it did not acknowledge is
  // found in the stream by the resync, or sent again.
  publisher_.reset();
  std::chrono::milliseconds backoff = kFirstBackoff;
  // While JetStream recovers, a request may go unanswered: ask often with a short timeout at
  // first, then longer, up to --request-timeout.
  std::chrono::milliseconds attempt_timeout = std::min(kFirstAttemptTimeout, session_->request_timeout());
  while (!resync(attempt_timeout) || (chain_refused && !settle_after_chain_refusal()) ||
         (publisher_ == nullptr && !connect_publisher())) {
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
    anchored_bytes_ += queue_.front().payload.size();
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

void OutBridge::begin_outage(const NatsFailure& failure) {
  if (outage_started_) return;
  outage_started_ = Clock::now();
  resent_in_outage_ = 0;
  reporter_.notice("JetStream did not take records (" + failure.text +
                   "); holding them in the ring and retrying with backoff, nothing is dropped");
}

void OutBridge::end_outage() {
  outage_backoff_ = kFirstBackoff;
  if (!outage_started_) return;
  const double seconds = std::chrono::duration<double>(Clock::now() - *outage_started_).count();
  reporter_.notice("JetStream takes records again after " + programs::format_seconds(seconds) + "; " +
                   programs::count_of(resent_in_outage_, "record") + " sent again in order");
  outage_started_.reset();
}

}  // namespace ringfile::bridge::out
