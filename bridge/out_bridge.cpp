#include "out_bridge.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>
#include <optional>

#include "bridge_report.hpp"
#include "message_origin.hpp"
#include "nats_session.hpp"
#include "out_bridge_core.hpp"
#include "publish_window.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "stream_setup.hpp"

namespace ringfile::bridge {
namespace out {

OutBridge::OutBridge(const OutSettings& settings)
    : settings_(settings),
      ring_(Ring::open(settings.ring)),
      identity_(ring_identity(ring_.info())),
      reporter_("out", settings.report) {
  SessionOptions options;
  options.urls = settings.stream.urls;
  options.client_name = "ringfile-bridge out " + settings.ring.string();
  options.request_timeout = settings.stream.request_timeout;
  session_ = std::make_unique<NatsSession>(options);
  retry_while_transient(*session_, notice(), [&] { return ensure_stream(*session_, settings.stream); });
  max_payload_ = static_cast<std::uint64_t>(natsConnection_GetMaxPayload(session_->connection()));
  retry_while_transient(*session_, notice(), [&] {
    if (!connect_publisher()) fail("cannot open the publishing connection", last_failure_);
  });
}

int OutBridge::run() {
  try {
    return run_until_stopped();
  } catch (...) {
    if (consumer_) reporter_.failure_summary(totals());  // attached: there are totals to tell
    throw;
  }
}

int OutBridge::run_until_stopped() {
  retry_while_transient(*session_, notice(), [&] {
    if (!resync()) {
      fail("cannot read the last message of subject '" + settings_.stream.subject + "' in stream '" +
               settings_.stream.stream + "'",
           last_failure_);
    }
  });
  if (!stream_position_.last_is_ours) {
    reporter_.notice("the last message on '" + settings_.stream.subject +
                     "' was not sent from this ring; this ring's records follow it");
  }
  skip_through_ = stream_position_.last_position;
  attach();
  last_record_at_ = Clock::now();
  for (;;) {
    collect_replies(std::chrono::milliseconds(0));
    if (const auto& failure = window_.failure()) {
      if (!recover(*failure)) break;
    } else if (window_.oldest_sent_before(Clock::now() - settings_.ack_timeout)) {
      if (!recover(NatsFailure{NATS_TIMEOUT, 0, "no acknowledgement within --ack-timeout"})) break;
    }
    if (!send_queued()) {
      // A message refused again and again (a stream at its limits) comes back here each time.
      if (!recover(*pending_failure_) || should_stop()) break;
      continue;
    }
    commit_cursor();
    if (reporter_.progress_due()) reporter_.show_progress(totals());
    if (should_stop()) break;
    if (!read_records()) wait_for_work();
  }
  finish();
  BridgeTotals final_totals = totals();
  final_totals.idle_seconds = idle_seconds_at_stop(settings_.stop, last_record_at_, final_totals.records);
  reporter_.summary(final_totals, programs::kExitSuccess);
  return programs::kExitSuccess;
}

void OutBridge::attach() {
  ConsumerOptions options;
  options.name = settings_.name;
  options.start = settings_.start;
  options.seek = settings_.seek;
  options.auto_commit = false;  // only what JetStream acknowledged is committed
  consumer_.emplace(Consumer::attach(ring_, options));
  // Losses found at attach (a saved cursor the producers overwrote since) are this run's.
  lost_at_attach_ = consumer_->carried_stats().lost_records;
  lost_bytes_at_attach_ = consumer_->carried_stats().lost_bytes;
  lost_reported_ = lost_at_attach_;
  lost_bytes_reported_ = lost_bytes_at_attach_;
}

bool OutBridge::read_records() {
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
        const auto* bytes = record.payload.data();
        try {
          queue_.push_back(UnsentMessage{record.position, std::vector<std::byte>(bytes, bytes + record.payload.size())});
        } catch (const std::bad_alloc&) {
          out_of_memory = true;
          return;
        }
        records_read_ += 1;
        bytes_read_ += record.payload.size();
      },
      wanted);
  if (out_of_memory) throw RuntimeFailure("out of memory copying records to send; lower --max-in-flight-bytes");
  if (too_large || polled.status == PollStatus::corrupt) {
    // What was read before it goes out first, and is waited for, so that the cursor stops at the
    // record the bridge cannot go past (it stopped with the records before in flight, the cursor
    // behind them: found by a tester; nothing was lost, the next start sent them again). The poll
    // read past a record too large: the cursor must not follow it there.
    if (too_large) unsendable_at_ = too_large->first;
    if (send_queued()) finish();
  }
  if (too_large) {
    const std::uint64_t carried = max_payload_ - kHeaderAllowance;
    const std::string record_size = programs::format_bytes_beside(too_large->second, carried);
    const std::string carried_size = programs::format_bytes_beside(carried, too_large->second);
    throw RuntimeFailure("the record at position " + std::to_string(too_large->first) + " of '" +
                         settings_.ring.string() + "' holds " + record_size + ", more than a NATS message carries here (" +
                         carried_size + ", " + std::to_string(kHeaderAllowance) +
                         " bytes of max_payload kept for the bridge's headers); raise max_payload in the nats-server "
                         "configuration");
  }
  if (polled.status == PollStatus::corrupt) throw RuntimeFailure(polled.error_message);
  report_losses();
  if (polled.records == 0) return false;
  last_record_at_ = Clock::now();
  return true;
}

void OutBridge::report_losses() {
  const std::uint64_t lost = consumer_->stats().lost_records;
  const std::uint64_t lost_bytes = consumer_->stats().lost_bytes;
  if ((lost == lost_reported_ && lost_bytes == lost_bytes_reported_) || Clock::now() < next_loss_notice_) return;
  // A loss found at attach counts bytes only: the records in them are not known.
  const std::string bytes = programs::format_bytes(static_cast<double>(lost_bytes - lost_bytes_reported_));
  reporter_.notice("lost " +
                   (lost == lost_reported_ ? bytes + " of records" : std::to_string(lost - lost_reported_) + " records (" + bytes + ")") +
                   " that the ring's producers overwrote before they were read (lapped, or the saved cursor "
                   "expired); they never reached the stream");
  lost_reported_ = lost;
  lost_bytes_reported_ = lost_bytes;
  next_loss_notice_ = Clock::now() + std::chrono::seconds(1);
}

bool OutBridge::send_queued() {
  bool sent_chained = false;
  while (!queue_.empty()) {
    UnsentMessage& unsent = queue_.front();
    if (anchor_needed_) {
      if (!publish_anchor(unsent)) return false;
    } else {
      if (window_.size() >= settings_.max_in_flight || window_.payload_bytes() >= settings_.max_in_flight_bytes) {
        break;
      }
      if (!publish_chained(unsent)) return false;
      sent_chained = true;
    }
    queue_.pop_front();
  }
  if (sent_chained && !publisher_->flush()) {
    window_.connection_failed(publisher_->failure());  // the messages are in the window
  }
  return true;
}

void OutBridge::collect_replies(std::chrono::milliseconds timeout) {
  if (publisher_ == nullptr) return;
  const bool healthy = publisher_->read_replies(
      timeout, [this](std::uint64_t token, const PublishReply& reply) { window_.replied(token, reply); });
  if (!healthy) window_.connection_failed(publisher_->failure());
}

bool OutBridge::connect_publisher() {
  NatsFailure failure;
  publisher_ = WirePublisher::connect(settings_.stream.urls, &next_url_, "ringfile-bridge out " + settings_.ring.string(),
                                      settings_.stream.request_timeout, &failure);
  if (publisher_ != nullptr) return true;
  if (!failure.transient()) fail("cannot publish to NATS", failure);
  last_failure_ = failure;
  return false;
}

void OutBridge::commit_cursor() {
  std::uint64_t confirmed = consumer_->position();
  if (const auto oldest = window_.oldest_position()) {
    confirmed = *oldest;
  } else if (!queue_.empty()) {
    confirmed = queue_.front().position;
  }
  if (unsendable_at_) confirmed = std::min(confirmed, *unsendable_at_);
  consumer_->commit(confirmed);
}

bool OutBridge::should_stop() const {
  if (programs::stop_requested()) return true;
  const Clock::time_point now = Clock::now();
  const bool settled = window_.size() == 0 && queue_.empty() && !outage_started_;
  if (!settled) return false;
  if (settings_.stop.count && acknowledged() >= *settings_.stop.count) return true;
  if (!settings_.stop.until_idle || now - last_record_at_ < *settings_.stop.until_idle) return false;
  // Records below the head that a poll cannot hand out yet (an open claim, or a hole the library
  // reports after the unblock timeout) are no idleness, as in ringfile-consumer.
  return consumer_->position() >= ring_.head_position();
}

void OutBridge::wait_for_work() {
  if (window_.size() > 0) {
    // Acknowledgements are due; the ring is looked at again soon after.
    collect_replies(kAckWaitSlice);
    if (window_.size() >= settings_.max_in_flight) return;
    consumer_->wait(std::chrono::milliseconds(0));
    return;
  }
  consumer_->wait(kIdleWait);
}

void OutBridge::finish() {
  const Clock::time_point deadline = Clock::now() + settings_.ack_timeout;
  while (window_.size() > 0 && !window_.failure() && Clock::now() < deadline && programs::stop_requests() < 2) {
    collect_replies(std::chrono::milliseconds(10));
  }
  commit_cursor();
  const std::size_t unconfirmed = window_.size() + queue_.size();
  if (unconfirmed > 0) {
    reporter_.notice(programs::count_of(unconfirmed, "record") + (unconfirmed == 1 ? " was" : " were") +
                     " not acknowledged before stopping; they stay in the ring and are sent on the "
                     "next start");
  }
}

}  // namespace out

int run_out(const OutSettings& settings) {
  int exit_code = programs::kExitFailure;
  try {
    out::OutBridge bridge(settings);
    exit_code = bridge.run();
  } catch (...) {
    nats_CloseAndWait(1000);
    throw;
  }
  nats_CloseAndWait(1000);  // joins the client's threads
  return exit_code;
}

}  // namespace ringfile::bridge
