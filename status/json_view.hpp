// --json: one JSON document per ring and sample, on one line.
#pragma once

#include <string>

#include "ring_report.hpp"

namespace ringfile::status {

// {"path", "time", "capacity", "policy", "max_record_bytes", "head", "sample_seconds",
//  "write_bytes_per_s", "resident_bytes", "dirty_bytes", "average_record_bytes_in_ring",
//  "consumer_slots_used", "consumer_slots", "producers_waiting",
//  "consumers": [{"slot", "name", "pid", "alive", "state", "position", "lag_bytes",
//                 "lag_seconds", "lag_records_estimate", "lag_fraction", "read_bytes_per_s",
//                 "holds_back", "detached", "expired", "past_expiry", "lost_records", "lost_bytes",
//                 "heartbeat_age_seconds"}],
//  "producers": [{"slot", "pid", "alive", "committed_records", "committed_bytes", "claim_open",
//                 "write_bytes_per_s", "records_per_s", "waiting", "waiting_seconds",
//                 "waiting_since", "waiting_for", "waited_seconds_total"}]}
// Unknown values (no second sample, no record to date) are null.
std::string render_json(const RingReport& report);

}  // namespace ringfile::status
