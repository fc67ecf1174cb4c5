#include "json_view.hpp"

#include "ringfile/programs/existing_ring.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "ringfile/programs/lost_records.hpp"
#include "ringfile/programs/time_points.hpp"

namespace ringfile::status {

std::string render_json(const RingReport& report) {
  programs::JsonWriter json;
  json.begin_object()
      .field("path", report.path.string())
      .field("time", static_cast<double>(report.realtime_ns) / 1e9)
      .field("capacity", report.capacity)
      .field("policy", programs::policy_name(report.policy))
      .field("max_record_bytes", report.max_record_bytes)
      .field("paging", programs::paging_name(report.paging))
      .field("head", report.head)
      .field("sample_seconds", report.window_seconds)
      .field("write_bytes_per_s", report.write_bytes_per_s)
      .field("resident_bytes", report.resident_bytes)
      .field("dirty_bytes", report.dirty_bytes)
      .field("resident_budget_bytes", report.paging_state.resident_budget_bytes)
      .field("hold_window_bytes", report.paging_state.hold_window_bytes)
      .field("budget_memory_bytes", report.paging_state.memory_bytes)
      .field("rings_sharing_memory", report.paging_state.rings_sharing)
      .field("memory_for_rings_kept_whole_bytes", report.paging_state.whole_rings_bytes)
      .field("released_position", report.paging_state.released_position)
      .field("average_record_bytes_in_ring", report.average_frame_bytes)
      .field("consumer_slots_used", report.consumer_slots_used)
      .field("consumer_slots", report.consumer_slots)
      .field("producers_waiting", report.producers_waiting);
  json.key("consumers").begin_array();
  for (const ConsumerReport& consumer : report.consumers) {
    json.begin_object()
        .field("slot", consumer.slot)
        .field("name", consumer.name)
        .field("pid", consumer.pid)
        .field("alive", consumer.alive)
        .field("state", to_string(consumer.state))
        .field("damage", consumer.damage.empty() ? std::optional<std::string>() : consumer.damage)
        .field("position", consumer.position)
        .field("lag_bytes", consumer.lag_bytes)
        .field("lag_seconds", consumer.lag_seconds)
        .field("lag_records_estimate", consumer.lag_records_estimate)
        .field("lag_fraction", consumer.lag_fraction)
        .field("read_bytes_per_s", consumer.read_bytes_per_s)
        .field("holds_back", consumer.holds_back)
        .field("following", consumer.following)
        .field("replaying", consumer.replaying)
        .field("detached", consumer.detached)
        .field("expired", consumer.expired)
        .field("past_expiry", consumer.past_expiry)
        .field("lost_records", programs::lost_record_count(consumer.lost_records, consumer.lost_bytes))
        .field("lost_bytes", consumer.lost_bytes)
        .field("heartbeat_age_seconds", consumer.heartbeat_age_seconds)
        .end_object();
  }
  json.end_array();
  json.key("producers").begin_array();
  for (const ProducerReport& producer : report.producers) {
    json.begin_object()
        .field("slot", producer.slot)
        .field("pid", producer.pid)
        .field("alive", producer.alive)
        .field("committed_records", producer.committed_records)
        .field("committed_bytes", producer.committed_bytes)
        .field("claim_open", producer.claim_open)
        .field("write_bytes_per_s", producer.bytes_per_s)
        .field("records_per_s", producer.records_per_s)
        .field("waiting", producer.waiting_seconds.has_value())
        .field("waiting_seconds", producer.waiting_seconds)
        .field("waiting_since", producer.waiting_since_ns ? std::optional(programs::format_utc_time(*producer.waiting_since_ns))
                                                          : std::nullopt)
        .field("waiting_for", producer.waiting_seconds ? std::optional(producer.waiting_for) : std::nullopt)
        .field("waited_seconds_total", producer.waited_seconds)
        .end_object();
  }
  json.end_array();
  json.end_object();
  return json.text();
}

}  // namespace ringfile::status
