#include "in_bridge.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>

#include "bridge_report.hpp"
#include "durable_consumer.hpp"
#include "nats_session.hpp"
#include "ring_for_writing.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/programs/write_failures.hpp"
#include "stream_setup.hpp"
#include "write_journal.hpp"

namespace ringfile::bridge {
namespace {

using Clock = std::chrono::steady_clock;
using programs::RuntimeFailure;

constexpr std::chrono::milliseconds kFetchWait{200};
constexpr std::chrono::milliseconds kSpaceWaitSlice{100};
constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kLongestBackoff{5000};
// How often an idle `in` asks the stream whether it holds more than the ring, and how many
// answers "yes" in a row make the durable count as stuck.
constexpr std::chrono::milliseconds kIdleCheckInterval{2000};
constexpr int kStuckAfterChecks = 2;

class InBridge {
 public:
  explicit InBridge(const InSettings& settings) : settings_(settings), reporter_("in", settings.report) {
    ring_ = find_ring_for_writing(settings);
    if (ring_) {
      journal_ = std::make_unique<WriteJournal>(settings.state_file);
      connect();
      return;
    }
    // The ring is to be created (--create). Whatever a user fixes and reruns for is checked before
    // it exists, so that such a run leaves no ring behind to refuse the rerun's --size as "exists
    // with other parameters": the server, the stream, the durable (one that feeds another ring
    // cannot become this new one's), the state file. What fails once the ring exists leaves it (a
    // durable taken meanwhile, JetStream refusing to create one, a message too large for the
    // ring): another program may have opened it by then.
    connect();
    retry_while_transient(*session_, notice(), [&] { durable_->check_existing(); });
    journal_ = std::make_unique<WriteJournal>(settings.state_file);
    try {
      ring_ = create_ring_for_writing(settings);
    } catch (...) {
      journal_->remove_if_created();  // nobody else has used it: we hold its lock
      throw;
    }
  }

  int run() {
    try {
      return run_until_stopped();
    } catch (...) {
      reporter_.failure_summary(totals(false));
      throw;
    }
  }

 private:
  int run_until_stopped() {
    recover_journal();
    check_same_stream();
    written_ = retry_while_transient(*session_, notice(), [&] { return durable_->align(journal_->written()); });
    if (durable_->ack_floor_adopted() > journal_->written()) {
      reporter_.notice("durable '" + settings_.durable + "' acknowledged messages up to " +
                       std::to_string(durable_->ack_floor_adopted()) + ", beyond what this ring holds (" +
                       std::to_string(journal_->written()) + "): the ring was replaced; continuing after them");
      journal_->complete(written_);
    }
    producer_.emplace(*ring_);
    last_message_at_ = Clock::now();
    while (!should_stop()) {
      fetch_and_write();
      if (reporter_.progress_due()) reporter_.show_progress(totals(false));
    }
    BridgeTotals final_totals = totals(true);
    final_totals.idle_seconds = idle_seconds_at_stop(settings_.stop, last_message_at_, final_totals.records);
    reporter_.summary(final_totals, programs::kExitSuccess);
    return programs::kExitSuccess;
  }

  void connect() {
    SessionOptions options;
    options.urls = settings_.stream.urls;
    options.client_name = "ringfile-bridge in " + settings_.ring.string();
    options.request_timeout = settings_.stream.request_timeout;
    session_ = std::make_unique<NatsSession>(options);
    const StreamFacts stream =
        retry_while_transient(*session_, notice(), [&] { return ensure_stream(*session_, settings_.stream); });
    durable_ = std::make_unique<DurableConsumer>(*session_, settings_, stream);
    stream_creation_time_ns_ = stream.creation_time_ns;
  }

  void recover_journal() {
    const JournalRecovery recovery = journal_->recover(*ring_);
    if (recovery.undecidable) {
      reporter_.notice("cannot tell whether stream message " + std::to_string(recovery.interrupted_sequence) +
                       " reached the ring before the last crash (the ring was overwritten since); writing it again");
    }
  }

  // The stream's sequences start afresh when it is deleted and made again: the ring's place in
  // the old one (the journal's last sequence) would skip as many of the new one's messages.
  void check_same_stream() {
    const std::uint64_t fed_from = journal_->stream_creation_time();
    if (journal_->written() > 0 && fed_from != 0 && fed_from != stream_creation_time_ns_) {
      throw RuntimeFailure(stream_made_again(settings_, journal_->written()));
    }
    journal_->note_stream_creation_time(stream_creation_time_ns_);
  }

  bool should_stop() const {
    if (programs::stop_requested()) return true;
    const Clock::time_point now = Clock::now();
    if (settings_.stop.count && records_ >= *settings_.stop.count) return true;
    return settings_.stop.until_idle && !outage_started_ && now - last_message_at_ >= *settings_.stop.until_idle;
  }

  void fetch_and_write() {
    std::chrono::milliseconds wait = kFetchWait;
    if (settings_.stop.until_idle) {
      const auto idle_left = *settings_.stop.until_idle - (Clock::now() - last_message_at_);
      wait = std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(idle_left), std::chrono::milliseconds(1),
                        kFetchWait);
    }
    int batch = static_cast<int>(settings_.batch);
    if (settings_.stop.count) batch = static_cast<int>(std::min<std::uint64_t>(batch, *settings_.stop.count - records_));
    const std::optional<NatsFailure> failure = durable_->requests().fetch(messages_, batch, wait);
    if (messages_.empty()) {
      if (failure) {
        wait_out_failure(*failure);
      } else if (!session_->connected()) {
        // The client reconnects by itself, and a fetch meanwhile just finds nothing: said as an
        // outage all the same (found by a tester: a server killed for 4-8 s went unmentioned).
        begin_outage("the connection to " + session_->urls_text() + " is lost; reconnecting");
      } else {
        end_outage();
        remote_lag_ = 0;
        check_idle_durable();
      }
      return;
    }
    end_outage();
    stuck_checks_ = 0;
    last_message_at_ = Clock::now();
    if (!write_batch()) {
      // The messages of the old incarnation are dropped before the durable is re-created.
      messages_.clear();
      realign("a delivery went missing on the way");
    }
  }

  // Writes the messages in order and acknowledges those written (or already in the ring). False
  // when a delivery went missing before one of them: the durable must be rewound.
  bool write_batch() {
    natsMsg* last_done = nullptr;
    bool missing_delivery = false;
    for (std::size_t index = 0; index < messages_.size(); ++index) {
      natsMsg* message = messages_[index].get();
      const std::optional<Delivery> delivery = delivery_of(message);
      if (!delivery) continue;  // not a stream message
      const std::uint64_t sequence = delivery->stream_sequence;
      remote_lag_ = delivery->pending;
      if (delivery->consumer_sequence != durable_->expected_delivery()) {
        missing_delivery = true;
        break;
      }
      durable_->delivered();
      if (sequence <= written_) {
        skipped_ += 1;  // delivered again, already in the ring
      } else {
        in_flight_ = messages_.size() - index;
        if (!write(message, sequence)) break;  // asked to stop while the ring was full
      }
      if (!durable_->acknowledges_all()) durable_->requests().acknowledge(message);
      last_done = message;
      acknowledged_ += 1;
    }
    if (durable_->acknowledges_all() && last_done != nullptr) durable_->requests().acknowledge(last_done);
    in_flight_ = 0;
    return !missing_delivery;
  }

  // Appends one message to the ring. False when asked to stop while waiting for space: the
  // message is then neither written nor acknowledged, and comes again on the next start.
  bool write(natsMsg* message, std::uint64_t sequence) {
    const auto* payload = reinterpret_cast<const std::byte*>(natsMsg_GetData(message));
    const auto size = static_cast<std::size_t>(natsMsg_GetDataLength(message));
    Clock::time_point next_progress_signal = Clock::now() + settings_.ack_wait / 3;
    for (;;) {
      const ClaimResult claim = producer_->claim(size, kSpaceWaitSlice);
      const int claim_errno = errno;  // the failed claim's, before anything else runs
      if (claim.status == ClaimStatus::too_large) {
        throw RuntimeFailure("stream message " + std::to_string(sequence) + " holds " +
                             programs::format_bytes_beside(size, ring_->info().max_record_bytes) +
                             ", more than the largest record of '" + settings_.ring.string() + "' (" +
                             programs::format_bytes_beside(ring_->info().max_record_bytes, size) +
                             "); to go on past it, delete it from the stream (nats stream rmm " +
                             settings_.stream.stream + " " + std::to_string(sequence) +
                             "), or feed a ring created with a larger --max-record");
      }
      // Waiting cures only a full ring: a claim refused its mapping (io_error), or a damaged head,
      // would fail again at once, a loop at full speed that never ends.
      if (claim.status != ClaimStatus::ok && claim.status != ClaimStatus::timed_out &&
          claim.status != ClaimStatus::would_block) {
        throw RuntimeFailure(programs::claim_failure(*ring_, claim.status, claim_errno));
      }
      if (claim.status != ClaimStatus::ok) {
        // The ring is full (block policy): wait, and tell JetStream the message is being worked
        // on so that it does not deliver it again meanwhile.
        if (programs::stop_requested()) return false;
        if (Clock::now() >= next_progress_signal) {
          durable_->requests().in_progress(message);
          next_progress_signal = Clock::now() + settings_.ack_wait / 3;
        }
        continue;
      }
      journal_->begin(sequence, claim.position, size);
      if (size > 0) std::memcpy(claim.buffer.data(), payload, size);
      const ClaimStatus committed = producer_->commit();
      if (committed == ClaimStatus::claim_lost) continue;  // padded over meanwhile: write it again
      // Not in the ring (the kernel refused the write of a large record): written again, it
      // would most likely be refused again, forever. The journal takes the aborted claim for a
      // message not written, so the next start writes it.
      if (committed != ClaimStatus::ok) throw RuntimeFailure(programs::commit_failure(*ring_, committed, errno));
      journal_->complete(sequence);
      written_ = sequence;
      records_ += 1;
      reporter_.first_record_done();
      bytes_ += size;
      return true;
    }
  }

  // Rewinds the durable to the message after the last one written, retrying while JetStream
  // cannot be reached. Returns without when asked to stop meanwhile.
  void realign(const std::string& reason, bool recreate = false) {
    try {
      written_ = retry_while_transient(*session_, [&](const std::string& text) { begin_outage(reason + "; " + text); },
                                       [&] {
                                         if (!recreate) return durable_->align(written_);
                                         durable_->recreate(written_);
                                         return written_;
                                       });
    } catch (const TransientFailure&) {
      if (!programs::stop_requested()) throw;
    }
  }

  std::function<void(const std::string&)> notice() {
    return [this](const std::string& text) { reporter_.notice(text); };
  }

  // A durable whose leader is a replica that fell behind the stream (nats-server 2.9.10 after a
  // node restart: "Catchup for stream stalled") answers every request, with "no messages", for as
  // long as that replica lags: minutes. The stream's leader knows better; when it holds messages
  // after the last one written while the durable has delivered nothing for kStuckAfterChecks
  // checks, the durable is re-created, with a new raft group and a new leader.
  void check_idle_durable() {
    const Clock::time_point now = Clock::now();
    if (now - last_message_at_ < kIdleCheckInterval || now < next_idle_check_) return;
    next_idle_check_ = now + kIdleCheckInterval;
    const std::optional<bool> behind = durable_->stream_has_after(written_);
    if (!behind) return;  // cannot tell now
    stuck_checks_ = *behind ? stuck_checks_ + 1 : 0;
    if (stuck_checks_ < kStuckAfterChecks) return;
    stuck_checks_ = 0;
    reporter_.notice("durable '" + settings_.durable + "' delivers nothing while stream '" + settings_.stream.stream +
                     "' holds messages after " + std::to_string(written_) + "; re-creating it");
    realign("the durable was stuck", true);
    last_message_at_ = Clock::now();  // the next check comes after a whole idle interval
  }

  void wait_out_failure(const NatsFailure& failure) {
    begin_outage("cannot fetch: " + failure.text);
    backoff_ = wait_before_retry(*session_, backoff_, kFirstBackoff, kLongestBackoff);
    // A durable that does not answer cannot be asked how far it is either: it is re-created.
    if (!programs::stop_requested()) realign("fetching failed", durable_->requests().unanswered());
  }

  void begin_outage(const std::string& reason) {
    if (outage_started_) return;
    outage_started_ = Clock::now();
    reporter_.notice("JetStream unavailable (" + reason + "); retrying with backoff, nothing is acknowledged "
                     "that is not in the ring");
  }

  void end_outage() {
    backoff_ = kFirstBackoff;
    if (!outage_started_) return;
    const double seconds = std::chrono::duration<double>(Clock::now() - *outage_started_).count();
    reporter_.notice("JetStream available again after " + programs::format_seconds(seconds));
    outage_started_.reset();
  }

  std::optional<std::uint64_t> ask_remote_lag() const {
    jsOptions options = request_options(*session_);
    jsConsumerInfo* info = nullptr;
    if (js_GetConsumerInfo(&info, session_->jetstream(), settings_.stream.stream.c_str(), settings_.durable.c_str(),
                           &options, nullptr) != NATS_OK) {
      return std::nullopt;
    }
    // What the durable has still to deliver, and what it delivered past the last message written
    // (the next batch, asked for ahead, which a stop leaves unwritten and unacknowledged: it comes
    // again). Counted by stream sequence: with --subject on a stream of several subjects, the
    // other subjects' messages among those count too.
    const std::uint64_t delivered = info->Delivered.Stream;
    const std::uint64_t lag = info->NumPending + (delivered > written_ ? delivered - written_ : 0);
    jsConsumerInfo_Destroy(info);
    return lag;
  }

  BridgeTotals totals(bool ask_stream) const {
    BridgeTotals totals;
    totals.records = records_;
    totals.bytes = bytes_;
    totals.in_flight = in_flight_;
    totals.acknowledged = acknowledged_;
    totals.retries = durable_->rewinds();
    totals.skipped = skipped_;
    totals.remote_lag = ask_stream ? ask_remote_lag() : std::optional<std::uint64_t>(remote_lag_);
    totals.position = written_;
    return totals;
  }

  const InSettings& settings_;
  BridgeReporter reporter_;
  std::optional<Ring> ring_;  // nullopt only while the constructor has it still to create
  std::unique_ptr<WriteJournal> journal_;
  std::uint64_t stream_creation_time_ns_ = 0;  // of the stream found at start
  std::unique_ptr<NatsSession> session_;
  std::unique_ptr<DurableConsumer> durable_;
  std::optional<Producer> producer_;
  std::vector<MessagePtr> messages_;  // the batch in hand

  std::uint64_t written_ = 0;  // the last stream sequence the ring holds
  std::uint64_t records_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t in_flight_ = 0;
  std::uint64_t acknowledged_ = 0;
  std::uint64_t skipped_ = 0;
  std::uint64_t remote_lag_ = 0;
  Clock::time_point last_message_at_;
  Clock::time_point next_idle_check_;
  int stuck_checks_ = 0;
  std::optional<Clock::time_point> outage_started_;
  std::chrono::milliseconds backoff_ = kFirstBackoff;
};

}  // namespace

int run_in(const InSettings& settings) {
  int exit_code = programs::kExitFailure;
  try {
    InBridge bridge(settings);
    exit_code = bridge.run();
  } catch (...) {
    nats_CloseAndWait(1000);
    throw;
  }
  nats_CloseAndWait(1000);
  return exit_code;
}

}  // namespace ringfile::bridge
