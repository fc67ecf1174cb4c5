#include "lag_limit.hpp"

#include "ringfile/programs/units.hpp"

namespace ringfile::status {

bool dropped_ahead_of_producers(const RingReport& report, const ConsumerReport& consumer) noexcept {
  // The paging engine invalidates the old lap ahead of the head up to prepared_position: the
  // bytes a lap below it are gone. Only where it destroys them: prefetch_only reads them ahead
  // and keeps them (and none prepares nothing).
  if (report.paging != PagingStrategy::zero_range && report.paging != PagingStrategy::punch_hole) return false;
  const std::uint64_t prepared = report.paging_state.prepared_position;
  return prepared > report.capacity && consumer.position < prepared - report.capacity;
}

std::vector<std::string> lag_violations(const RingReport& report, const LagLimit& limit) {
  std::vector<std::string> lines;
  for (const ConsumerReport& consumer : report.consumers) {
    if (consumer.state == ConsumerHealth::expired) continue;  // no longer counts
    std::string over;
    if (limit.bytes && consumer.lag_bytes > *limit.bytes) {
      over = programs::format_bytes_beside(consumer.lag_bytes, *limit.bytes) + ", more than --max-lag " +
             programs::format_bytes_beside(*limit.bytes, consumer.lag_bytes);
    } else if (limit.time && consumer.lag_seconds && *consumer.lag_seconds > programs::to_seconds(*limit.time)) {
      over = programs::format_seconds(*consumer.lag_seconds) + ", more than --max-lag " +
             programs::format_duration(*limit.time);
    } else if (limit.time && consumer.lag_bytes > report.capacity) {
      // Its oldest unread record is overwritten, so its lag has no age (lag_seconds unknown): the
      // worst case of all, not one to pass over.
      over = "more than a whole ring (" + programs::format_bytes(report.capacity) +
             "): its oldest unread record is overwritten, so more than --max-lag " +
             programs::format_duration(*limit.time);
    } else if (limit.time && !consumer.lag_seconds && dropped_ahead_of_producers(report, consumer)) {
      // Less than a ring behind, and no age all the same: not an open claim at its cursor (whose
      // lag is young), but a record gone already, so as bad as the case above.
      over = programs::format_bytes(consumer.lag_bytes) +
             ", its oldest unread record already dropped ahead of the producers (paging), so more than --max-lag " +
             programs::format_duration(*limit.time);
    }
    if (over.empty()) continue;
    const std::string who = consumer.name.empty() ? "anonymous consumer #" + std::to_string(consumer.slot)
                                                  : "consumer '" + consumer.name + "'";
    const std::string pid = consumer.pid > 0 ? " (pid " + std::to_string(consumer.pid) + ", " : " (";
    const std::string advice = consumer.name.empty()
                                   ? "speed it up, or stop it"
                                   : "speed it up, or if it is gone for good, delete it (ringfile-consumer '" +
                                         report.path.string() + "' --delete " + consumer.name + ")";
    lines.push_back(who + pid + to_string(consumer.state) + ") of '" + report.path.string() + "' lags " + over + "; " +
                    advice);
  }
  return lines;
}

}  // namespace ringfile::status
