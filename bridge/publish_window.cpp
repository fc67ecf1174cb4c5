#include "publish_window.hpp"

#include <string>

namespace ringfile::bridge {

void PublishWindow::published(std::uint64_t position, std::uint64_t token, std::vector<std::byte> payload) {
  payload_bytes_ += payload.size();
  entries_.push_back(Entry{position, token, State::pending, std::move(payload), std::chrono::steady_clock::now()});
}

void PublishWindow::replied(std::uint64_t token, const PublishReply& reply) {
  // Tokens run by one through the window: the entry is found by its distance from the front.
  if (entries_.empty() || token < entries_.front().token || token - entries_.front().token >= entries_.size()) return;
  Entry& entry = entries_[token - entries_.front().token];
  if (entry.state != State::pending) return;
  if (reply.stored) {
    entry.state = State::acknowledged;
    pop_acknowledged();
    return;
  }
  entry.state = State::refused;
  if (!failure_) {
    NatsFailure failure;
    failure.status = reply.code == 503 ? NATS_NO_RESPONDERS : NATS_ERR;
    failure.js_code = reply.js_code;
    failure.text = reply.description.empty() ? "publish refused" : reply.description;
    if (reply.js_code != 0) failure.text += " (JetStream error " + std::to_string(reply.js_code) + ")";
    failure_ = std::move(failure);
  }
}

void PublishWindow::connection_failed(const NatsFailure& failure) {
  if (!failure_) failure_ = failure;
}

void PublishWindow::pop_acknowledged() {
  while (!entries_.empty() && entries_.front().state == State::acknowledged) {
    acknowledged_ += 1;
    acknowledged_bytes_ += entries_.front().payload.size();
    payload_bytes_ -= entries_.front().payload.size();
    entries_.pop_front();
  }
}

bool PublishWindow::oldest_sent_before(std::chrono::steady_clock::time_point moment) const {
  // Replies come in order: the front is the one waiting longest.
  return !entries_.empty() && entries_.front().state == State::pending && entries_.front().sent_at < moment;
}

std::optional<std::uint64_t> PublishWindow::oldest_position() const {
  if (entries_.empty()) return std::nullopt;
  return entries_.front().position;
}

std::vector<UnsentMessage> PublishWindow::take_unstored(std::optional<std::uint64_t> last_stored) {
  std::vector<UnsentMessage> unstored;
  for (Entry& entry : entries_) {
    const bool stored = entry.state == State::acknowledged || (last_stored && entry.position <= *last_stored);
    if (stored) {
      acknowledged_ += 1;
      acknowledged_bytes_ += entry.payload.size();
    } else {
      unstored.push_back(UnsentMessage{entry.position, std::move(entry.payload)});
    }
  }
  entries_.clear();
  payload_bytes_ = 0;
  failure_.reset();
  return unstored;
}

}  // namespace ringfile::bridge
