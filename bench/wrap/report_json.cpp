// The wrap benchmark's JSON report: the same figures as the text report, one document.
#include "ringfile/programs/json_writer.hpp"
#include "support/statistics.hpp"
#include "wrap/report.hpp"
#include "wrap/report_format.hpp"

namespace ringfile::bench::wrap {

namespace {

using programs::JsonWriter;

void write_config(JsonWriter& json, const RunDescription& run) {
  const WrapOptions& options = run.options;
  json.key("config").begin_object();
  json.field("rings", options.ring_count).field("ring_bytes", options.ring_bytes);
  json.field("record_bytes", options.record_bytes).field("laps", options.laps);
  json.field("view_bytes", std::min(options.view_bytes, options.ring_bytes));
  json.field("ringfile_view_bytes", options.ringfile_view_bytes);
  json.field("ringfile_checksum", options.ringfile_checksum);
  if (options.ringfile_hold_window_bytes == kHoldWindowWholeRing) {
    json.field("ringfile_hold_window", "ring");
  } else if (options.ringfile_hold_window_bytes == 0) {
    json.field("ringfile_hold_window", "auto");
  } else {
    json.field("ringfile_hold_window", options.ringfile_hold_window_bytes);
  }
  json.field("readers", options.readers).field("reader_work", options.reader_work);
  json.field("reader_pause_bytes", options.reader_pause_bytes);
  json.field("tmpfs_leg", options.tmpfs_leg).field("tmpfs_first", options.tmpfs_first);
  json.field("replay", options.replay).field("settle_seconds", options.settle_seconds);
  json.field("box_memory_bytes", options.box_memory_bytes);
  json.field("read_bytes_per_second", options.read_bytes_per_second);
  json.field("read_iops", options.read_iops);
  json.field("directory", run.ring_directory.string());
  json.field("tmpfs_directory", options.tmpfs_directory.string());
  json.field("baseline", options.baseline_kind);
  json.end_object();
}

void write_side(JsonWriter& json, const char* name, const SideTimes& times) {
  json.key(name).begin_object();
  json.field("cpu_seconds", times.cpu_seconds);
  json.field("runqueue_wait_seconds", times.runqueue_wait_seconds);
  json.field("waited_seconds", times.waited_seconds);
  json.field("waits", times.waits);
  json.field("wait_cpu_seconds", times.wait_cpu_known ? std::optional(times.wait_cpu_seconds)
                                                      : std::nullopt);
  json.field("major_faults", times.major_faults).field("disk_read_bytes", times.disk_read_bytes);
  json.end_object();
}

// `name`: null, or an object that `write_fields` fills.
template <class Value, class WriteFields>
void write_optional_object(JsonWriter& json, const char* name, const std::optional<Value>& value,
                           WriteFields&& write_fields) {
  json.key(name);
  if (!value) {
    json.null();
    return;
  }
  json.begin_object();
  write_fields(*value);
  json.end_object();
}

void write_box_disk(JsonWriter& json, const char* name, const std::optional<BoxDiskBytes>& disk) {
  write_optional_object(json, name, disk, [&json](const BoxDiskBytes& bytes) {
    json.field("read_bytes", bytes.read_bytes).field("write_bytes", bytes.write_bytes);
    json.field("read_requests", bytes.read_requests);
  });
}

void write_history(JsonWriter& json, const char* name, const std::optional<HistoryResult>& history) {
  write_optional_object(json, name, history, [&json](const HistoryResult& read) {
    json.field("bytes", read.bytes).field("seconds", read.seconds);
    json.field("megabytes_per_second", read.megabytes_per_second);
    json.field("records_read", read.records_read);
    json.field("records_mismatched", read.records_mismatched);
    write_side(json, "processes", read.times);
    write_box_disk(json, "box_disk", read.box_disk);
    json.field("error", read.error);
  });
}

void write_readers(JsonWriter& json, const ReaderSummary& readers) {
  json.key("readers").begin_object();
  json.field("records_read", readers.records_read);
  json.field("records_lost", readers.records_lost);
  json.field("records_mismatched", readers.records_mismatched);
  json.field("every_record_checked", readers.every_record_checked);
  json.field("bytes_read", readers.bytes_read);
  json.field("max_lag_records", readers.max_lag_records);
  write_side(json, "processes", readers.times);
  if (readers.paging) {
    const PagingSample& paging = *readers.paging;
    json.key("paging_ring_0").begin_object();
    json.field("hold_window_bytes", paging.hold_window_bytes);
    json.field("resident_budget_bytes", paging.resident_budget_bytes);
    json.field("memory_bytes", paging.memory_bytes).field("rings_sharing", paging.rings_sharing);
    json.field("polls", paging.polls).field("polls_not_following", paging.polls_not_following);
    json.field("polls_replaying", paging.polls_replaying).end_object();
  }
  if (readers.pause) {
    const PauseSummary& pause = *readers.pause;
    json.key("pause").begin_object();
    json.field("readers_resumed", pause.readers_resumed);
    json.field("readers_caught_up", pause.readers_caught_up);
    json.field("unread_bytes", pause.unread_bytes).field("spilled_bytes", pause.spilled_bytes);
    json.field("spilled_later_bytes", pause.spilled_later_bytes).field("read_back_bytes", pause.read_back_bytes);
    json.field("catch_up_seconds", pause.catch_up_seconds).end_object();
  }
  json.end_object();
}

void write_kind(JsonWriter& json, const KindResult& kind) {
  json.begin_object().field("kind", kind.kind).field("leg", leg_name(kind.leg));
  json.field("ring", kind.ring_note).field("error", kind.error);
  json.key("laps").begin_array();
  for (const LapResult& lap : kind.laps) {
    json.begin_object().field("bytes", lap.bytes).field("seconds", lap.seconds);
    json.field("gigabytes_per_second", lap.gigabytes_per_second);
    json.field("writer_disk_read_bytes", lap.writer_disk_read_bytes);
    json.field("writer_disk_write_bytes", lap.writer_disk_write_bytes);
    json.field("writer_major_faults", lap.writer_major_faults);
    json.field("box_disk_read_bytes", lap.box_disk_read_bytes);
    json.field("box_disk_write_bytes", lap.box_disk_write_bytes);
    json.field("box_peak_memory_bytes", lap.box_peak_memory_bytes);
    json.field("ring_resident_bytes", lap.ring_resident_bytes);
    json.field("ring_dirty_bytes", lap.ring_dirty_bytes);
    json.field("ring_writeback_bytes", lap.ring_writeback_bytes);
    json.end_object();
  }
  json.end_array();
  json.field("total_bytes", kind.total_bytes).field("records_written", kind.records_written);
  json.field("wall_seconds", kind.wall_seconds).field("drain_seconds", kind.drain_seconds);
  json.field("gigabytes_per_second_with_drain", kind.gigabytes_per_second_with_drain);
  write_side(json, "writers", kind.writers);
  write_box_disk(json, "box_disk", kind.box_disk);
  json.field("box_oom_kills", kind.box_oom_kills);
  if (kind.readers) write_readers(json, *kind.readers);
  write_history(json, "replay", kind.replay);
  write_history(json, "sequential_read", kind.sequential_read);
  json.end_object();
}

// The same ratios as the text report, so scripts need not recompute them.
void write_ratios(JsonWriter& json, const RunDescription& run, const std::vector<KindResult>& kinds) {
  const KindResult* const baseline = find_result(kinds, run.options.baseline_kind, Leg::disk);
  json.key("ratios").begin_array();
  for (const KindResult& kind : kinds) {
    json.begin_object().field("kind", kind.kind).field("leg", leg_name(kind.leg));
    json.key("lap_vs_lap1").begin_array();
    for (const LapResult& lap : kind.laps) {
      json.value(ratio(lap.gigabytes_per_second, kind.laps.front().gigabytes_per_second));
    }
    json.end_array();
    if (baseline != nullptr && kind.leg == Leg::disk) {
      json.field("vs_kind", baseline->kind);
      json.key("lap_vs_baseline").begin_array();
      for (std::size_t lap = 0; lap < std::min(kind.laps.size(), baseline->laps.size()); ++lap) {
        json.value(
            ratio(kind.laps[lap].gigabytes_per_second, baseline->laps[lap].gigabytes_per_second));
      }
      json.end_array();
      json.field("with_drain_vs_baseline", ratio(kind.gigabytes_per_second_with_drain,
                                                 baseline->gigabytes_per_second_with_drain));
    }
    if (const KindResult* tmpfs = find_result(kinds, kind.kind, Leg::tmpfs);
        tmpfs != nullptr && kind.leg == Leg::disk) {
      json.field("wall_vs_tmpfs", ratio(kind.wall_seconds, tmpfs->wall_seconds));
    }
    if (const KindResult* copying = find_result(kinds, kind.kind + "-write", kind.leg)) {
      json.field("claim_vs_write_all_laps", ratio(all_laps_gigabytes_per_second(kind),
                                                  all_laps_gigabytes_per_second(*copying)));
    }
    if (kind.replay && kind.sequential_read) {
      json.field("replay_vs_sequential_read", ratio(kind.replay->megabytes_per_second,
                                                    kind.sequential_read->megabytes_per_second));
    }
    json.end_object();
  }
  json.end_array();
}

}  // namespace

std::string json_report(const RunDescription& run, const std::vector<KindResult>& kinds) {
  JsonWriter json;
  json.begin_object();
  run.machine.write_json_fields(json, "ringfile-bench-wrap");
  write_config(json, run);
  json.key("box").begin_array();
  for (const std::string& note : run.box_notes) json.value(note);
  json.end_array();
  json.key("kinds").begin_array();
  for (const KindResult& kind : kinds) write_kind(json, kind);
  json.end_array();
  write_ratios(json, run, kinds);
  json.end_object();
  return json.text() + "\n";
}

}  // namespace ringfile::bench::wrap
