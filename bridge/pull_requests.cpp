#include "pull_requests.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string_view>

#include "message_origin.hpp"
#include "ringfile/programs/program.hpp"

namespace ringfile::bridge {
namespace {

// What the server sends on the inbox besides messages: "Status" (and "Description") headers on
// an empty message.
constexpr const char* kStatusHeader = "Status";
constexpr const char* kDescriptionHeader = "Description";
// The reply subject of every message JetStream delivers from a stream (for its acknowledgement).
constexpr std::string_view kAckPrefix = "$JS.ACK.";

// A message of the stream, whatever headers it carries: anyone who may publish on the subject
// can give a message a "Status" header, and only the server's own status messages lack this.
bool has_ack_subject(natsMsg* message) {
  const char* reply = natsMsg_GetReply(message);
  return reply != nullptr && std::string_view(reply).starts_with(kAckPrefix);
}

std::int64_t nanoseconds(std::chrono::milliseconds duration) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(duration).count();
}

}  // namespace

std::optional<Delivery> delivery_of(natsMsg* message) {
  if (!has_ack_subject(message)) return std::nullopt;
  std::string_view rest = natsMsg_GetReply(message);
  rest.remove_prefix(kAckPrefix.size());
  // Up to 12 tokens after the prefix; the numbers are the last 5 (old form: 7 tokens in all) or
  // the 5 before the last (new form: 9 or more, ending with a random token).
  std::string_view tokens[12];
  std::size_t count = 0;
  while (!rest.empty() && count < std::size(tokens)) {
    const std::size_t dot = rest.find('.');
    tokens[count++] = rest.substr(0, dot);
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  std::size_t first_number = 0;  // the "delivered" count
  if (count == 7) {
    first_number = 2;
  } else if (count >= 9) {
    first_number = 4;
  } else {
    return std::nullopt;
  }
  const auto stream_sequence = parse_unsigned(tokens[first_number + 1]);
  const auto consumer_sequence = parse_unsigned(tokens[first_number + 2]);
  const auto pending = parse_unsigned(tokens[first_number + 4]);
  if (!stream_sequence || !consumer_sequence || !pending) return std::nullopt;
  return Delivery{*stream_sequence, *consumer_sequence, *pending};
}

PullRequests::PullRequests(NatsSession& session, const std::string& stream, const std::string& durable)
    : session_(session),
      connection_(session.connection()),
      request_subject_("$JS.API.CONSUMER.MSG.NEXT." + stream + "." + durable) {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) throw programs::RuntimeFailure("cannot create a NATS inbox");
  inbox_ = inbox;
  natsInbox_Destroy(inbox);
  const natsStatus status = natsConnection_SubscribeSync(&inbox_subscription_, connection_, inbox_.c_str());
  if (status != NATS_OK) {
    throw programs::RuntimeFailure("cannot subscribe to an inbox: " + failure_of(status, jsErrCode{}).text);
  }
  // Bounded by the requests, which ask for at most two batches at a time.
  natsSubscription_SetPendingLimits(inbox_subscription_, -1, -1);
}

PullRequests::~PullRequests() { session_.retire(inbox_subscription_); }

std::optional<NatsFailure> PullRequests::send_request(int batch, std::chrono::milliseconds wait) {
  // The server answers 408 when the request expires: a little before the bridge stops waiting.
  const std::chrono::milliseconds expires = std::max(wait - std::chrono::milliseconds(10), std::chrono::milliseconds(1));
  const std::string body =
      "{\"batch\":" + std::to_string(batch) + ",\"expires\":" + std::to_string(nanoseconds(expires)) + "}";
  const natsStatus status = natsConnection_PublishRequest(connection_, request_subject_.c_str(), inbox_.c_str(),
                                                          body.data(), static_cast<int>(body.size()));
  if (status != NATS_OK) return failure_of(status, jsErrCode{});
  if (!silent_since_) silent_since_ = Clock::now();
  outstanding_ = batch;
  outstanding_until_ = Clock::now() + wait;
  return std::nullopt;
}

std::optional<NatsFailure> PullRequests::take(natsMsg* raw, std::vector<MessagePtr>& messages) {
  MessagePtr message(raw);
  silent_since_.reset();  // any message on the inbox is an answer
  const char* status = nullptr;
  if (has_ack_subject(raw) || natsMsg_GetDataLength(raw) > 0 ||
      natsMsgHeader_Get(raw, kStatusHeader, &status) != NATS_OK || status == nullptr) {
    messages.push_back(std::move(message));
    if (outstanding_ > 0) outstanding_ -= 1;
    return std::nullopt;
  }
  if (std::strncmp(status, "100", 3) == 0) return std::nullopt;  // an idle heartbeat
  // Every other status ends the request it answers: no messages now (404), expired (408), or an
  // error (409 leadership change, consumer deleted, ...; 503 no responders).
  outstanding_ = 0;
  if (std::strncmp(status, "404", 3) == 0 || std::strncmp(status, "408", 3) == 0) return std::nullopt;
  const char* description = nullptr;
  natsMsgHeader_Get(raw, kDescriptionHeader, &description);
  NatsFailure failure;
  failure.status = std::strncmp(status, "503", 3) == 0 ? NATS_NO_RESPONDERS : NATS_ERR;
  failure.text = description != nullptr && *description != '\0' ? std::string(description)
                                                                   : "status " + std::string(status);
  return failure;
}

std::optional<NatsFailure> PullRequests::fetch(std::vector<MessagePtr>& messages, int batch,
                                               std::chrono::milliseconds wait) {
  messages.clear();
  unanswered_ = false;
  std::optional<NatsFailure> failure;
  const auto take_arrived = [&] {
    natsMsg* raw = nullptr;
    while (static_cast<int>(messages.size()) < batch &&
           natsSubscription_NextMsg(&raw, inbox_subscription_, 0) == NATS_OK) {
      if (auto reported = take(raw, messages)) failure = reported;
    }
  };
  take_arrived();
  if (messages.empty()) {
    if (outstanding_ == 0 || Clock::now() >= outstanding_until_) {
      if (auto refused = send_request(batch, wait)) return refused;
    }
    natsMsg* raw = nullptr;
    const natsStatus status = natsSubscription_NextMsg(&raw, inbox_subscription_, wait.count());
    if (status == NATS_TIMEOUT) return failure ? failure : silence();
    if (status != NATS_OK) return failure_of(status, jsErrCode{});
    if (auto reported = take(raw, messages)) failure = reported;
    take_arrived();
  }
  // The next batch is asked for now, so that it arrives while this one is written.
  if (outstanding_ == 0 || Clock::now() >= outstanding_until_) {
    if (auto refused = send_request(batch, wait); refused && messages.empty()) return refused;
  }
  return messages.empty() ? failure : std::nullopt;
}

std::optional<NatsFailure> PullRequests::silence() {
  if (!silent_since_ || Clock::now() - *silent_since_ < kUnansweredLimit) return std::nullopt;
  silent_since_.reset();  // the next report comes after as long again
  unanswered_ = true;
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(kUnansweredLimit).count();
  return NatsFailure{NATS_TIMEOUT, 0, "pull requests unanswered for " + std::to_string(seconds) + " s"};
}

void PullRequests::acknowledge(natsMsg* message) const {
  // Lost acknowledgements are fine: the message comes again and is recognised as written.
  natsConnection_PublishString(connection_, natsMsg_GetReply(message), "+ACK");
}

void PullRequests::in_progress(natsMsg* message) const {
  natsConnection_PublishString(connection_, natsMsg_GetReply(message), "+WPI");
}

}  // namespace ringfile::bridge
