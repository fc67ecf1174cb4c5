#include "wrap/report.hpp"

#include <cstdio>

#include "support/byte_size.hpp"
#include "ringfile/programs/json_writer.hpp"
#include "support/statistics.hpp"

namespace ringfile::bench::wrap {

namespace {

using programs::JsonWriter;

std::string format(const char* pattern, double value) {
  char text[64];
  std::snprintf(text, sizeof(text), pattern, value);
  return text;
}

std::string mebibytes(const std::optional<std::uint64_t>& bytes) {
  return bytes ? format("%.0f", static_cast<double>(*bytes) / kBytesPerMiB) : "-";
}

// Disk bytes read per byte written: 1.0 means every overwritten byte was read back first.
std::string per_byte_written(const std::optional<std::uint64_t>& bytes, std::uint64_t written) {
  return bytes && written != 0
             ? format("%.3f", static_cast<double>(*bytes) / static_cast<double>(written))
             : "-";
}

void append_row(std::string& text, const std::vector<std::string>& cells) {
  static constexpr int kWidths[] = {19, 4, 7, 7, 11, 10, 10, 10, 9, 9};
  std::size_t column = 0;
  for (const std::string& cell : cells) {
    char padded[64];
    std::snprintf(padded, sizeof(padded), column == 0 ? "%-*s" : " %*s", kWidths[column],
                  cell.c_str());
    text += padded;
    ++column;
  }
  text += "\n";
}

const KindResult* find_kind(const std::vector<KindResult>& kinds, const std::string& name) {
  for (const KindResult& kind : kinds) {
    if (kind.kind == name) return &kind;
  }
  return nullptr;
}

std::string header(const RunDescription& run) {
  const WrapOptions& options = run.options;
  std::string text = "ringfile-bench-wrap, " + run.machine.started_at_utc + ", Linux " +
                     run.machine.kernel_release + ", " + std::to_string(run.machine.online_cpus) +
                     " CPUs, load average " + run.machine.load_at_start + " at start, " + run.machine.load_at_end +
                     " at end\n";
  text += "rings: " + std::to_string(options.ring_count) + " x " +
          format_byte_size(options.ring_bytes) + " = " +
          format_byte_size(options.ring_count * options.ring_bytes) + " in " +
          run.ring_directory.string() + ", records " + std::to_string(options.record_bytes) +
          " B, " + std::to_string(options.laps) + " laps, naive view " +
          format_byte_size(std::min(options.view_bytes, options.ring_bytes)) +
          ", readers: " + (options.readers ? "one per ring" : "none") + "\n";
  text += "ringfile kinds: view " + format_byte_size(options.ringfile_view_bytes) + ", policy " +
          (options.readers ? "block (the reader holds the writer back)" : "overwrite") +
          ", payload CRC32C " + (options.ringfile_checksum ? "on" : "off") + ", " +
          (options.ringfile_copy_api ? "Producer::write()" : "claim + memcpy + commit") +
          "; a lap is ring-size bytes of the ring's head (frames and wrap padding), GB/s counts "
          "record bytes\n";
  for (const std::string& note : run.box_notes) text += "box: " + note + "\n";
  return text;
}

void append_kind(std::string& text, const KindResult& kind) {
  std::size_t lap_number = 1;
  for (const LapResult& lap : kind.laps) {
    append_row(
        text, {kind.kind, std::to_string(lap_number++), format("%.3f", lap.gigabytes_per_second),
               format("%.2f", lap.seconds), per_byte_written(lap.writer_disk_read_bytes, lap.bytes),
               per_byte_written(lap.box_disk_read_bytes, lap.bytes),
               mebibytes(lap.box_peak_memory_bytes), mebibytes(lap.ring_resident_bytes),
               mebibytes(lap.ring_dirty_bytes), std::to_string(lap.writer_major_faults)});
  }
  text += "  " + kind.kind + ": final fsync " + format("%.2f", kind.drain_seconds) + " s; " +
          format("%.3f", kind.gigabytes_per_second_with_drain) +
          " GB/s over all laps including it; " +
          format("%.2f", static_cast<double>(kind.total_bytes) / kBytesPerGB) + " GB written\n";
  if (kind.readers) {
    const ReaderSummary& readers = *kind.readers;
    text += "  " + kind.kind + " readers: " + std::to_string(readers.records_read) + " read, " +
            std::to_string(readers.records_lost) + " lost to the writer, " +
            std::to_string(readers.records_mismatched) + " mismatched, max lag " +
            std::to_string(readers.max_lag_records) + " records, disk read " +
            format("%.3f", static_cast<double>(readers.disk_read_bytes) / kBytesPerGB) + " GB\n";
  }
  if (kind.box_oom_kills && *kind.box_oom_kills != 0) {
    text +=
        "  " + kind.kind + ": " + std::to_string(*kind.box_oom_kills) + " OOM kills in the box\n";
  }
  if (!kind.error.empty()) text += "  " + kind.kind + " FAILED: " + kind.error + "\n";
}

std::string ratios(const RunDescription& run, const std::vector<KindResult>& kinds) {
  std::string text = "\nafter the wrap, lap n / lap 1 (GB/s):\n";
  for (const KindResult& kind : kinds) {
    if (kind.laps.size() < 2) continue;
    text += "  " + kind.kind + ":";
    for (std::size_t lap = 1; lap < kind.laps.size(); ++lap) {
      text += "  lap " + std::to_string(lap + 1) + " " +
              format("%.2f",
                     ratio(kind.laps[lap].gigabytes_per_second, kind.laps[0].gigabytes_per_second));
    }
    text += "\n";
  }
  const KindResult* const baseline = find_kind(kinds, run.options.baseline_kind);
  if (baseline == nullptr || kinds.size() < 2) return text;
  text += "kind / " + baseline->kind + " (GB/s):\n";
  for (const KindResult& kind : kinds) {
    if (&kind == baseline) continue;
    text += "  " + kind.kind + ":";
    for (std::size_t lap = 0; lap < std::min(kind.laps.size(), baseline->laps.size()); ++lap) {
      text += "  lap " + std::to_string(lap + 1) + " " +
              format("%.2f", ratio(kind.laps[lap].gigabytes_per_second,
                                   baseline->laps[lap].gigabytes_per_second));
    }
    text +=
        "  with final fsync " + format("%.2f", ratio(kind.gigabytes_per_second_with_drain,
                                                     baseline->gigabytes_per_second_with_drain));
    text += "\n";
  }
  return text;
}

}  // namespace

std::string text_report(const RunDescription& run, const std::vector<KindResult>& kinds) {
  std::string text = header(run) + "\n";
  append_row(text, {"kind", "lap", "GB/s", "seconds", "read/wr", "box", "box peak", "resident",
                    "dirty", "major"});
  append_row(text, {"", "", "", "", "(writers)", "read/wr", "MiB", "MiB", "MiB", "faults"});
  for (const KindResult& kind : kinds) append_kind(text, kind);
  text += ratios(run, kinds);
  text +=
      "\nread/wr: disk bytes read per byte written, from the writers' /proc/PID/io; box "
      "read/wr: the same from the box's cgroup. resident/dirty: the rings' page cache when "
      "the last writer finished the lap. box peak: highest use of the box during the lap.\n";
  return text;
}

std::string json_report(const RunDescription& run, const std::vector<KindResult>& kinds) {
  const WrapOptions& options = run.options;
  JsonWriter json;
  json.begin_object();
  run.machine.write_json_fields(json, "ringfile-bench-wrap");
  json.key("config").begin_object();
  json.field("rings", options.ring_count).field("ring_bytes", options.ring_bytes);
  json.field("record_bytes", options.record_bytes).field("laps", options.laps);
  json.field("view_bytes", std::min(options.view_bytes, options.ring_bytes));
  json.field("ringfile_view_bytes", options.ringfile_view_bytes);
  json.field("ringfile_checksum", options.ringfile_checksum);
  json.field("ringfile_copy_api", options.ringfile_copy_api);
  json.field("readers", options.readers).field("directory", run.ring_directory.string());
  json.field("baseline", options.baseline_kind);
  json.end_object();
  json.key("box").begin_array();
  for (const std::string& note : run.box_notes) json.value(note);
  json.end_array();
  json.key("kinds").begin_array();
  for (const KindResult& kind : kinds) {
    json.begin_object().field("kind", kind.kind).field("error", kind.error);
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
    json.field("total_bytes", kind.total_bytes).field("drain_seconds", kind.drain_seconds);
    json.field("gigabytes_per_second_with_drain", kind.gigabytes_per_second_with_drain);
    json.field("box_oom_kills", kind.box_oom_kills);
    if (kind.readers) {
      json.key("readers").begin_object();
      json.field("records_read", kind.readers->records_read);
      json.field("records_lost", kind.readers->records_lost);
      json.field("records_mismatched", kind.readers->records_mismatched);
      json.field("disk_read_bytes", kind.readers->disk_read_bytes);
      json.field("max_lag_records", kind.readers->max_lag_records);
      json.end_object();
    }
    json.end_object();
  }
  json.end_array();
  // The same ratios as the text report, so scripts need not recompute them.
  const KindResult* const baseline = find_kind(kinds, options.baseline_kind);
  json.key("ratios").begin_array();
  for (const KindResult& kind : kinds) {
    json.begin_object().field("kind", kind.kind);
    json.key("lap_vs_lap1").begin_array();
    for (const LapResult& lap : kind.laps) {
      json.value(ratio(lap.gigabytes_per_second, kind.laps.front().gigabytes_per_second));
    }
    json.end_array();
    if (baseline != nullptr) {
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
    json.end_object();
  }
  json.end_array();
  json.end_object();
  return json.text() + "\n";
}

}  // namespace ringfile::bench::wrap
