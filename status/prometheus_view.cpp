#include "prometheus_view.hpp"

#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>

namespace ringfile::status {
namespace {

std::string escape_label(const std::string& value) {
  std::string escaped;
  for (const char character : value) {
    if (character == '\\') escaped += "\\\\";
    else if (character == '"') escaped += "\\\"";
    else if (character == '\n') escaped += "\\n";
    else escaped += character;
  }
  return escaped;
}

std::string number(double value) {
  if (std::isnan(value)) return "NaN";
  char text[64];
  std::snprintf(text, sizeof text, "%.15g", value);  // exact for integers below 2^49
  return text;
}

class Exposition {
 public:
  // One family: HELP and TYPE, then a sample per item that has a value.
  template <class Item>
  void family(const char* name, const char* type, const char* help, const std::vector<Item>& items,
              const std::function<std::string(const Item&)>& labels,
              const std::function<std::optional<double>(const Item&)>& value) {
    std::string samples;
    for (const Item& item : items) {
      if (const auto sample = value(item)) samples += std::string(name) + "{" + labels(item) + "} " + number(*sample) + "\n";
    }
    if (samples.empty()) return;
    text_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + samples;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

struct ConsumerItem {
  const RingReport* ring;
  const ConsumerReport* consumer;
};
struct ProducerItem {
  const RingReport* ring;
  const ProducerReport* producer;
};

std::string ring_labels(const RingReport& ring) { return "ring=\"" + escape_label(ring.path.string()) + "\""; }

}  // namespace

std::string render_prometheus(const std::vector<RingReport>& reports,
                              const std::vector<std::filesystem::path>& unreadable) {
  std::vector<std::pair<std::string, bool>> targets;  // every ring asked for, and whether it was read
  for (const RingReport& report : reports) targets.emplace_back(report.path.string(), true);
  for (const auto& path : unreadable) targets.emplace_back(path.string(), false);
  std::vector<const RingReport*> rings;
  std::vector<ConsumerItem> consumers;
  std::vector<ProducerItem> producers;
  for (const RingReport& report : reports) {
    rings.push_back(&report);
    for (const auto& consumer : report.consumers) consumers.push_back({&report, &consumer});
    for (const auto& producer : report.producers) producers.push_back({&report, &producer});
  }
  using RingPtr = const RingReport*;
  const std::function<std::string(const RingPtr&)> ring_label = [](const RingPtr& ring) { return ring_labels(*ring); };
  const std::function<std::string(const ConsumerItem&)> consumer_label = [](const ConsumerItem& item) {
    return ring_labels(*item.ring) + ",consumer=\"" + escape_label(item.consumer->name) + "\",slot=\"" +
           std::to_string(item.consumer->slot) + "\"";
  };
  const std::function<std::string(const ProducerItem&)> producer_label = [](const ProducerItem& item) {
    return ring_labels(*item.ring) + ",slot=\"" + std::to_string(item.producer->slot) + "\"";
  };
  const auto as_double = [](auto value) -> std::optional<double> { return static_cast<double>(value); };

  Exposition out;
  using Target = std::pair<std::string, bool>;
  out.family<Target>(
      "ringfile_up", "gauge", "1 when the ring could be opened and read, 0 when not.", targets,
      [](const Target& target) { return "ring=\"" + escape_label(target.first) + "\""; },
      [&](const Target& target) { return as_double(target.second ? 1 : 0); });
  out.family<RingPtr>("ringfile_capacity_bytes", "gauge", "Size of the ring's data area.", rings, ring_label,
                      [&](const RingPtr& ring) { return as_double(ring->capacity); });
  out.family<RingPtr>("ringfile_reserved_bytes_total", "counter",
                      "Bytes ever reserved by producers: the head position, padding included.", rings, ring_label,
                      [&](const RingPtr& ring) { return as_double(ring->head); });
  out.family<RingPtr>("ringfile_consumer_slots_used", "gauge",
                      "Consumer slots taken, of ringfile_consumer_slots; a full table refuses new consumers.", rings,
                      ring_label, [&](const RingPtr& ring) { return as_double(ring->consumer_slots_used); });
  out.family<RingPtr>("ringfile_consumer_slots", "gauge", "Consumer slots in the ring's table.", rings, ring_label,
                      [&](const RingPtr& ring) { return as_double(ring->consumer_slots); });
  out.family<RingPtr>("ringfile_producers_waiting", "gauge", "Producers held back, waiting for space.", rings,
                      ring_label, [&](const RingPtr& ring) { return as_double(ring->producers_waiting); });
  out.family<RingPtr>("ringfile_write_bytes_per_second", "gauge", "Head movement over the sampling window.", rings,
                      ring_label, [](const RingPtr& ring) { return ring->write_bytes_per_s; });
  out.family<RingPtr>("ringfile_resident_bytes", "gauge", "Bytes of the ring file in the page cache.", rings,
                      ring_label, [&](const RingPtr& ring) { return as_double(ring->resident_bytes); });
  out.family<RingPtr>("ringfile_dirty_bytes", "gauge", "Dirty or under write-back bytes of the ring file.", rings,
                      ring_label, [](const RingPtr& ring) -> std::optional<double> {
                        if (!ring->dirty_bytes) return std::nullopt;
                        return static_cast<double>(*ring->dirty_bytes);
                      });
  out.family<RingPtr>("ringfile_resident_budget_bytes", "gauge",
                      "What the paging engine keeps of the ring in the page cache at most (0: no producer yet).",
                      rings, ring_label,
                      [&](const RingPtr& ring) { return as_double(ring->paging_state.resident_budget_bytes); });
  out.family<RingPtr>("ringfile_hold_window_bytes", "gauge",
                      "How far producers may run ahead of a following consumer (block policy).", rings, ring_label,
                      [&](const RingPtr& ring) { return as_double(ring->paging_state.hold_window_bytes); });

  out.family<ConsumerItem>("ringfile_consumer_position_bytes", "gauge", "Committed cursor of the consumer.",
                           consumers, consumer_label,
                           [&](const ConsumerItem& item) { return as_double(item.consumer->position); });
  out.family<ConsumerItem>("ringfile_consumer_lag_bytes", "gauge", "Bytes between the cursor and the head.", consumers,
                           consumer_label, [&](const ConsumerItem& item) { return as_double(item.consumer->lag_bytes); });
  out.family<ConsumerItem>("ringfile_consumer_lag_seconds", "gauge", "Age of the oldest unread record.", consumers,
                           consumer_label, [](const ConsumerItem& item) { return item.consumer->lag_seconds; });
  out.family<ConsumerItem>("ringfile_consumer_lag_records_estimate", "gauge",
                           "Lag in records, estimated from the average record size.", consumers, consumer_label,
                           [](const ConsumerItem& item) -> std::optional<double> {
                             if (!item.consumer->lag_records_estimate) return std::nullopt;
                             return static_cast<double>(*item.consumer->lag_records_estimate);
                           });
  out.family<ConsumerItem>("ringfile_consumer_read_bytes_per_second", "gauge",
                           "Cursor movement over the sampling window.", consumers, consumer_label,
                           [](const ConsumerItem& item) { return item.consumer->read_bytes_per_s; });
  out.family<ConsumerItem>("ringfile_consumer_alive", "gauge", "1 when the consumer's process exists.", consumers,
                           consumer_label, [&](const ConsumerItem& item) { return as_double(item.consumer->alive ? 1 : 0); });
  out.family<ConsumerItem>("ringfile_consumer_holds_back", "gauge", "1 when producers wait for this consumer.",
                           consumers, consumer_label,
                           [&](const ConsumerItem& item) { return as_double(item.consumer->holds_back ? 1 : 0); });
  out.family<ConsumerItem>("ringfile_consumer_following", "gauge",
                           "1 when producers stay within the hold window ahead of this consumer.", consumers,
                           consumer_label,
                           [&](const ConsumerItem& item) { return as_double(item.consumer->following ? 1 : 0); });
  out.family<ConsumerItem>("ringfile_consumer_replaying", "gauge",
                           "1 when the consumer's next records are no longer in memory (read from disk).", consumers,
                           consumer_label,
                           [&](const ConsumerItem& item) { return as_double(item.consumer->replaying ? 1 : 0); });
  out.family<ConsumerItem>("ringfile_consumer_pid", "gauge", "Process id of the consumer's owner (0: none).",
                           consumers, consumer_label, [&](const ConsumerItem& item) { return as_double(item.consumer->pid); });
  out.family<ConsumerItem>("ringfile_consumer_lost_records_total", "counter",
                           "Records known lost to lapping (bytes lost before any record of their producer was seen count in "
                           "ringfile_consumer_lost_bytes_total alone).", consumers,
                           consumer_label, [&](const ConsumerItem& item) { return as_double(item.consumer->lost_records); });
  out.family<ConsumerItem>("ringfile_consumer_lost_bytes_total", "counter", "Bytes skipped after lapping.", consumers,
                           consumer_label, [&](const ConsumerItem& item) { return as_double(item.consumer->lost_bytes); });
  // One series per state, 1 for the current one: alerts select on the label.
  std::vector<std::pair<ConsumerItem, ConsumerHealth>> states;
  for (const ConsumerItem& item : consumers) {
    for (const ConsumerHealth state : kAllConsumerHealths) states.emplace_back(item, state);
  }
  using StateItem = std::pair<ConsumerItem, ConsumerHealth>;
  out.family<StateItem>(
      "ringfile_consumer_state", "gauge",
      "1 for the consumer's state (OK, LAGGING, STALLED, DEAD, LAPPED, DETACHED, EXPIRED, DAMAGED).",
      states,
      [&](const StateItem& item) { return consumer_label(item.first) + ",state=\"" + to_string(item.second) + "\""; },
      [&](const StateItem& item) { return as_double(item.first.consumer->state == item.second ? 1 : 0); });

  out.family<ProducerItem>("ringfile_producer_alive", "gauge", "1 when the producer's process exists.", producers,
                           producer_label, [&](const ProducerItem& item) { return as_double(item.producer->alive ? 1 : 0); });
  out.family<ProducerItem>("ringfile_producer_pid", "gauge", "Process id of the producer.", producers, producer_label,
                           [&](const ProducerItem& item) { return as_double(item.producer->pid); });
  out.family<ProducerItem>("ringfile_producer_committed_records_total", "counter",
                           "Records committed by the slot's current owner.", producers, producer_label,
                           [&](const ProducerItem& item) { return as_double(item.producer->committed_records); });
  out.family<ProducerItem>("ringfile_producer_committed_bytes_total", "counter",
                           "Payload bytes committed by the slot's current owner.", producers, producer_label,
                           [&](const ProducerItem& item) { return as_double(item.producer->committed_bytes); });
  out.family<ProducerItem>("ringfile_producer_write_bytes_per_second", "gauge",
                           "Payload bytes committed per second over the sampling window.", producers, producer_label,
                           [](const ProducerItem& item) { return item.producer->bytes_per_s; });
  out.family<ProducerItem>("ringfile_producer_waiting", "gauge", "1 while the producer is held back, waiting for space.",
                           producers, producer_label,
                           [&](const ProducerItem& item) { return as_double(item.producer->waiting_seconds ? 1 : 0); });
  out.family<ProducerItem>("ringfile_producer_waiting_seconds", "gauge",
                           "How long the producer has been waiting for space (0 when it is not).", producers,
                           producer_label, [](const ProducerItem& item) -> std::optional<double> {
                             return item.producer->waiting_seconds.value_or(0.0);
                           });
  out.family<ProducerItem>("ringfile_producer_wait_seconds_total", "counter",
                           "Time the slot's current owner has spent waiting for space.", producers, producer_label,
                           [](const ProducerItem& item) -> std::optional<double> { return item.producer->waited_seconds; });
  return out.text();
}

}  // namespace ringfile::status
