#include "publish_window.hpp"

#include <algorithm>

namespace ringfile::bridge {

void PublishWindow::ack_handler(jsCtx*, natsMsg* message, jsPubAck* ack, jsPubAckErr* error, void* closure) {
  // The client hands the message over: destroyed here after an acknowledgement, kept to be sent
  // again after a failure.
  MessagePtr owned(message);
  auto* window = static_cast<PublishWindow*>(closure);
  Report report;
  if (ack != nullptr) {
    report.stored = true;  // a duplicate was stored before: just as good
  } else {
    report.failure.status = error != nullptr ? error->Err : NATS_ERR;
    report.failure.js_code = error != nullptr ? static_cast<int>(error->ErrCode) : 0;
    if (report.failure.status == NATS_TIMEOUT) {
      report.failure.text = "no acknowledgement within --ack-timeout";
    } else {
      report.failure.text = error != nullptr && error->ErrText != nullptr ? error->ErrText : "publish failed";
    }
    if (report.failure.js_code != 0) report.failure.text += " (JetStream error " + std::to_string(report.failure.js_code) + ")";
    report.returned = std::move(owned);
  }
  bool wake = false;
  {
    std::lock_guard lock(window->mutex_);
    const std::optional<std::uint64_t> position = window->take_awaited(message);
    if (!position) return;  // taken back meanwhile (cannot happen: the client no longer reports those)
    report.position = *position;
    window->reports_.push_back(std::move(report));
    wake = window->collector_waiting_;
  }
  // Only when the bridge's thread sleeps for reports: a wake-up is a system call per message.
  if (wake) window->reported_.notify_one();
}

std::optional<std::uint64_t> PublishWindow::take_awaited(natsMsg* message) {
  const auto found = std::find_if(awaited_.begin(), awaited_.end(),
                                  [&](const Awaited& awaited) { return awaited.message == message; });
  if (found == awaited_.end()) return std::nullopt;
  const std::uint64_t position = found->position;
  awaited_.erase(found);
  return position;
}

void PublishWindow::expect(natsMsg* message, std::uint64_t position) {
  std::lock_guard lock(mutex_);
  awaited_.push_back(Awaited{message, position});
}

void PublishWindow::forget(natsMsg* message) {
  std::lock_guard lock(mutex_);
  take_awaited(message);
}

void PublishWindow::published(std::uint64_t position, std::uint32_t bytes) {
  entries_.push_back(Entry{position, bytes, State::pending, nullptr, std::chrono::steady_clock::now()});
  payload_bytes_ += bytes;
}

void PublishWindow::collect(std::chrono::milliseconds timeout) {
  {
    std::unique_lock lock(mutex_);
    if (reports_.empty() && timeout.count() > 0) {
      collector_waiting_ = true;
      reported_.wait_for(lock, timeout, [&] { return !reports_.empty(); });
      collector_waiting_ = false;
    }
    applying_.swap(reports_);
  }
  for (Report& report : applying_) apply(report);
  applying_.clear();
  pop_acknowledged();
}

PublishWindow::Entry* PublishWindow::find(std::uint64_t position) {
  const auto found = std::lower_bound(entries_.begin(), entries_.end(), position,
                                      [](const Entry& entry, std::uint64_t wanted) { return entry.position < wanted; });
  return found != entries_.end() && found->position == position ? &*found : nullptr;
}

void PublishWindow::apply(Report& report) {
  Entry* entry = find(report.position);
  if (entry == nullptr || entry->state != State::pending) return;  // taken back meanwhile
  if (report.stored) {
    entry->state = State::acknowledged;
    return;
  }
  entry->state = State::in_hand;
  entry->message = std::move(report.returned);
  if (!failure_) failure_ = report.failure;
}

void PublishWindow::pop_acknowledged() {
  while (!entries_.empty() && entries_.front().state == State::acknowledged) {
    acknowledged_ += 1;
    acknowledged_bytes_ += entries_.front().bytes;
    payload_bytes_ -= entries_.front().bytes;
    entries_.pop_front();
  }
}

bool PublishWindow::oldest_sent_before(std::chrono::steady_clock::time_point moment) const {
  // Acknowledgements come in order: the front is the one waiting longest.
  return !entries_.empty() && entries_.front().state == State::pending && entries_.front().sent_at < moment;
}

std::optional<std::uint64_t> PublishWindow::oldest_position() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().position;
}

void PublishWindow::take_back_pending(jsCtx* jetstream) {
  // Every asynchronous publish is in the window: none, nothing to take back. (The client's call
  // also crashes before the first asynchronous publish.)
  if (entries_.empty()) return;
  natsMsgList pending{};
  if (js_PublishAsyncGetPendingList(&pending, jetstream) == NATS_OK) {
    for (int index = 0; index < pending.Count; ++index) {
      MessagePtr message(pending.Msgs[index]);
      pending.Msgs[index] = nullptr;  // ours now; natsMsgList_Destroy must not free it
      std::optional<std::uint64_t> position;
      {
        std::lock_guard lock(mutex_);
        position = take_awaited(message.get());
      }
      if (!position) continue;
      Entry* entry = find(*position);
      if (entry == nullptr || entry->state != State::pending) continue;
      entry->state = State::in_hand;
      entry->message = std::move(message);
    }
    natsMsgList_Destroy(&pending);
  }
  // A message is either in that list or with the ack handler, which may still be running: its
  // report arrives within moments.
  const auto unresolved = [&] {
    return std::any_of(entries_.begin(), entries_.end(), [](const Entry& entry) { return entry.state == State::pending; });
  };
  while (unresolved()) collect(std::chrono::milliseconds(10));
}

std::vector<UnsentMessage> PublishWindow::take_unstored(std::optional<std::uint64_t> last_stored) {
  collect(std::chrono::milliseconds(0));
  std::vector<UnsentMessage> unstored;
  for (Entry& entry : entries_) {
    const bool stored = entry.state == State::acknowledged || (last_stored && entry.position <= *last_stored);
    if (stored) {
      acknowledged_ += 1;
      acknowledged_bytes_ += entry.bytes;
    } else {
      unstored.push_back(UnsentMessage{entry.position, entry.bytes, std::move(entry.message)});
    }
  }
  entries_.clear();
  payload_bytes_ = 0;
  failure_.reset();
  return unstored;
}

void PublishWindow::destroy_messages() {
  collect(std::chrono::milliseconds(0));
  for (Entry& entry : entries_) entry.message.reset();
}

void PublishWindow::abandon_messages() {
  std::lock_guard lock(mutex_);
  for (Report& report : reports_) static_cast<void>(report.returned.release());
  reports_.clear();
  for (Entry& entry : entries_) static_cast<void>(entry.message.release());
}

}  // namespace ringfile::bridge
