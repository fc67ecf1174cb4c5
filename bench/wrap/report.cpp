#include "wrap/report.hpp"

#include <cstdio>

#include "support/byte_size.hpp"
#include "support/statistics.hpp"
#include "support/text_columns.hpp"
#include "wrap/report_format.hpp"

namespace ringfile::bench::wrap {

namespace {

std::string mebibytes(const std::optional<std::uint64_t>& bytes) {
  return bytes ? format("%.0f", static_cast<double>(*bytes) / kBytesPerMiB) : "-";
}

std::string gigabytes(std::uint64_t bytes) {
  return format("%.2f GB", static_cast<double>(bytes) / kBytesPerGB);
}

// Disk bytes read per byte written: 1.0 means every overwritten byte was read back first.
std::string per_byte_written(const std::optional<std::uint64_t>& bytes, std::uint64_t written) {
  return bytes && written != 0
             ? format("%.3f", static_cast<double>(*bytes) / static_cast<double>(written))
             : "-";
}

void append_row(std::string& text, const std::vector<std::string>& cells) {
  static constexpr int kWidths[] = {31, 4, 7, 7, 11, 10, 10, 10, 9, 9};
  text += fixed_width_row(cells, kWidths);
}

std::string header(const RunDescription& run) {
  const WrapOptions& options = run.options;
  std::string text = "ringfile-bench-wrap, " + run.machine.started_at_utc + ", Linux " +
                     run.machine.kernel_release + ", " + std::to_string(run.machine.online_cpus) +
                     " CPUs, load average " + run.machine.load_at_start + " at start, " +
                     run.machine.load_at_end + " at end\n";
  text += "rings: " + std::to_string(options.ring_count) + " x " +
          format_byte_size(options.ring_bytes) + " = " +
          format_byte_size(options.ring_count * options.ring_bytes) + " in " +
          run.ring_directory.string() + ", records " + std::to_string(options.record_bytes) +
          " B, " + std::to_string(options.laps) + " laps, naive view " +
          format_byte_size(std::min(options.view_bytes, options.ring_bytes)) + "\n";
  text += "readers: ";
  if (options.readers) {
    text += "one per ring, checking every record's stamp and bytes, " +
            std::to_string(options.reader_work) + " passes of work per byte";
    if (options.reader_pause_bytes != 0) {
      text += ", starting once their writer has written " +
              format_byte_size(options.reader_pause_bytes);
    }
    text += "; every writer waits for its reader (ringfile: block policy; baselines: the "
            "harness)\n";
  } else {
    text += "none\n";
  }
  text += "ringfile kinds: view " +
          (options.ringfile_view_bytes == 0 ? std::string("the library's default")
                                            : format_byte_size(options.ringfile_view_bytes)) +
          ", policy " +
          (options.readers ? "block" : "overwrite") + ", payload CRC32C " +
          (options.ringfile_checksum ? "on" : "off") +
          "; `-write` kinds use Producer::write(), the others claim + memcpy + commit; a lap is "
          "ring-size bytes of the ring's head (frames and wrap padding), GB/s counts record "
          "bytes\n";
  for (const std::string& note : run.box_notes) text += "box: " + note + "\n";
  if (options.tmpfs_leg) {
    text += "tmpfs leg: each kind again with its rings in " + options.tmpfs_directory.string() +
            ", unboxed (tmpfs pages are memory: they would not fit in the box)\n";
  }
  return text;
}

std::string percent_of_wait(double cpu_seconds, double waited_seconds, bool known) {
  if (!known) return "CPU not separable from the copy in the same call";
  if (waited_seconds <= 0) return "no waiting";
  return format("CPU %.3f s", cpu_seconds) + format(" = %.1f%% of a CPU", 100 * cpu_seconds / waited_seconds);
}

// Short waits cost more CPU per second than long ones (a waiter spins a little before it sleeps),
// so the mean wait goes with the percentage.
std::string describe_waiting(const char* side, const SideTimes& times) {
  std::string text = std::string(side) + format(" %.2f s", times.waited_seconds) + " in " +
                     std::to_string(times.waits) + " waits";
  if (times.waits != 0) {
    const double waits = static_cast<double>(times.waits);
    text += format(" (%.2f ms each", 1e3 * times.waited_seconds / waits);
    if (times.wait_cpu_known) text += format(", %.0f us CPU each", 1e6 * times.wait_cpu_seconds / waits);
    text += ")";
  }
  return text + ", " +
         percent_of_wait(times.wait_cpu_seconds, times.waited_seconds, times.wait_cpu_known);
}

// "7.70 s (+40.1 s runnable, waiting for a CPU)".
std::string cpu_and_runqueue(const SideTimes& times) {
  return format("%.2f s", times.cpu_seconds) +
         format(" (+%.1f s runnable, waiting for a CPU)", times.runqueue_wait_seconds);
}

void append_readers(std::string& text, const std::string& label, const KindResult& kind) {
  const ReaderSummary& readers = *kind.readers;
  text += "  " + label + " readers: " + std::to_string(readers.records_read) + " of " +
          std::to_string(kind.records_written) + " records checked, " +
          std::to_string(readers.records_lost) + " lost, " +
          std::to_string(readers.records_mismatched) + " mismatched: " +
          (readers.every_record_checked ? "every reader checked every record"
                                        : "NOT every record checked") +
          "; max lag " + std::to_string(readers.max_lag_records) + " records; major faults " +
          format("%.3f", ratio(static_cast<double>(readers.times.major_faults),
                               static_cast<double>(readers.bytes_read) / kBytesPerMiB)) +
          " per MiB read (" + std::to_string(readers.times.major_faults) + ")\n";
  text += "  " + label + " waiting: " + describe_waiting("writers", kind.writers) + "; " +
          describe_waiting("readers", readers.times) + "\n";
  if (readers.paging) {
    const PagingSample& paging = *readers.paging;
    text += "  " + label + " paging (ring 0): hold window " +
            format_byte_size(paging.hold_window_bytes) + ", budget " +
            (paging.resident_budget_bytes == 0
                 ? std::string("none (no engine runs)")
                 : format_byte_size(paging.resident_budget_bytes) + " (of " +
                       format_byte_size(paging.memory_bytes) + " shared by " +
                       std::to_string(paging.rings_sharing) + " rings)") +
            "; after " + std::to_string(paging.polls) + " polls not following " +
            std::to_string(paging.polls_not_following) + ", replaying " +
            std::to_string(paging.polls_replaying) + "\n";
  }
  if (readers.pause) {
    const PauseSummary& pause = *readers.pause;
    text += "  " + label + " paused readers: " + std::to_string(pause.readers_resumed) +
            " resumed with " + mebibytes(pause.unread_bytes) + " MiB unread, " +
            mebibytes(pause.spilled_bytes) + " MiB of it spilled (not in the page cache then, or " +
            mebibytes(pause.spilled_later_bytes) + " MiB of it dropped by the engine before read); " +
            std::to_string(pause.readers_caught_up) + " caught up, reading back " +
            mebibytes(pause.read_back_bytes) + " MiB (" +
            format("%.3f", ratio(static_cast<double>(pause.read_back_bytes),
                                 static_cast<double>(pause.spilled_bytes))) +
            " x spilled) in " + format("%.2f s", pause.catch_up_seconds) + ": " +
            format("%.0f MB/s", ratio(static_cast<double>(pause.read_back_bytes) / 1e6,
                                      pause.catch_up_seconds)) +
            "\n";
  }
}

void append_history(std::string& text, const std::string& label, const char* what,
                    const HistoryResult& history) {
  text += "  " + label + " " + what + ": " + gigabytes(history.bytes) + " in " +
          format("%.2f s", history.seconds) + " = " +
          format("%.0f MB/s", history.megabytes_per_second);
  if (history.records_read != 0 || history.records_mismatched != 0) {
    text += "; " + std::to_string(history.records_read) + " records checked, " +
            std::to_string(history.records_mismatched) + " mismatched";
  }
  text += "; read " + gigabytes(history.times.disk_read_bytes) + " (processes)";
  if (history.box_disk) {
    text += ", box " + gigabytes(history.box_disk->read_bytes) + " in " +
            std::to_string(history.box_disk->read_requests) + " requests of " +
            format("%.0f KiB",
                   ratio(static_cast<double>(history.box_disk->read_bytes) / 1024,
                         static_cast<double>(history.box_disk->read_requests))) +
            " on average";
  }
  text += "; " + std::to_string(history.times.major_faults) + " major faults, CPU " +
          format("%.2f s", history.times.cpu_seconds) + "\n";
}

void append_kind(std::string& text, const KindResult& kind) {
  const std::string label = kind_label(kind);
  std::size_t lap_number = 1;
  for (const LapResult& lap : kind.laps) {
    append_row(
        text, {label, std::to_string(lap_number++), format("%.3f", lap.gigabytes_per_second),
               format("%.2f", lap.seconds), per_byte_written(lap.writer_disk_read_bytes, lap.bytes),
               per_byte_written(lap.box_disk_read_bytes, lap.bytes),
               mebibytes(lap.box_peak_memory_bytes), mebibytes(lap.ring_resident_bytes),
               mebibytes(lap.ring_dirty_bytes), std::to_string(lap.writer_major_faults)});
  }
  text += "  " + label + ": " + (kind.ring_note.empty() ? "" : kind.ring_note + "; ") + "wall " +
          format("%.2f s", kind.wall_seconds) + "; final fsync " +
          format("%.2f", kind.drain_seconds) + " s; " +
          format("%.3f", kind.gigabytes_per_second_with_drain) +
          " GB/s over all laps including it; " + gigabytes(kind.total_bytes) + " written\n";
  text += "  " + label + " disk read per byte written: box " +
          per_byte_written(kind.box_disk ? std::optional(kind.box_disk->read_bytes) : std::nullopt,
                           kind.total_bytes) +
          ", writers " + per_byte_written(kind.writers.disk_read_bytes, kind.total_bytes);
  if (kind.readers) {
    text += ", readers " + per_byte_written(kind.readers->times.disk_read_bytes, kind.total_bytes);
  }
  text += "; CPU: writers " + cpu_and_runqueue(kind.writers);
  if (kind.readers) text += ", readers " + cpu_and_runqueue(kind.readers->times);
  text += "\n";
  if (kind.readers) append_readers(text, label, kind);
  if (kind.replay) append_history(text, label, "replay", *kind.replay);
  if (kind.sequential_read) {
    append_history(text, label, "1 MiB reads of the files", *kind.sequential_read);
  }
  if (kind.box_oom_kills && *kind.box_oom_kills != 0) {
    text += "  " + label + ": " + std::to_string(*kind.box_oom_kills) + " OOM kills in the box\n";
  }
  if (!kind.error.empty()) text += "  " + label + " FAILED: " + kind.error + "\n";
}

std::string lap_ratios(const RunDescription& run, const std::vector<KindResult>& kinds) {
  std::string text = "\nafter the wrap, lap n / lap 1 (GB/s):\n";
  for (const KindResult& kind : kinds) {
    if (kind.laps.size() < 2) continue;
    text += "  " + kind_label(kind) + ":";
    for (std::size_t lap = 1; lap < kind.laps.size(); ++lap) {
      text += "  lap " + std::to_string(lap + 1) + " " +
              format("%.2f",
                     ratio(kind.laps[lap].gigabytes_per_second, kind.laps[0].gigabytes_per_second));
    }
    text += "\n";
  }
  const KindResult* const baseline = find_result(kinds, run.options.baseline_kind, Leg::disk);
  if (baseline == nullptr || kinds.size() < 2) return text;
  text += "kind / " + baseline->kind + " (GB/s):\n";
  for (const KindResult& kind : kinds) {
    if (&kind == baseline || kind.leg != Leg::disk) continue;
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

std::string comparisons(const std::vector<KindResult>& kinds) {
  std::string text;
  const auto section = [&text](const char* title) {
    if (text.find(title) == std::string::npos) text += title;
  };
  for (const KindResult& kind : kinds) {
    if (kind.leg != Leg::disk) continue;
    if (const KindResult* tmpfs = find_result(kinds, kind.kind, Leg::tmpfs)) {
      section("\nwall time, disk in the box / tmpfs unboxed (same kinds, same readers):\n");
      text += "  " + kind.kind + ": " + format("%.2f", ratio(kind.wall_seconds, tmpfs->wall_seconds)) +
              " (" + format("%.2f s", kind.wall_seconds) + " / " +
              format("%.2f s", tmpfs->wall_seconds) + ")\n";
    }
  }
  for (const KindResult& kind : kinds) {
    const KindResult* const copying = find_result(kinds, kind.kind + "-write", kind.leg);
    if (copying == nullptr) continue;
    section("\nclaim + fill + commit / Producer::write() (GB/s, same run):\n");
    text += "  " + kind_label(kind) + " / " + kind_label(*copying) + ":";
    for (std::size_t lap = 0; lap < std::min(kind.laps.size(), copying->laps.size()); ++lap) {
      text += "  lap " + std::to_string(lap + 1) + " " +
              format("%.2f", ratio(kind.laps[lap].gigabytes_per_second,
                                   copying->laps[lap].gigabytes_per_second));
    }
    text += "  all laps " + format("%.2f", ratio(all_laps_gigabytes_per_second(kind),
                                                 all_laps_gigabytes_per_second(*copying)));
    text += "  with final fsync " + format("%.2f", ratio(kind.gigabytes_per_second_with_drain,
                                                         copying->gigabytes_per_second_with_drain));
    text += "\n";
  }
  for (const KindResult& kind : kinds) {
    if (!kind.sequential_read) continue;
    const double sequential = kind.sequential_read->megabytes_per_second;
    if (kind.replay) {
      section("\nreading back / the same files read in 1 MiB requests (MB/s, same box):\n");
      text += "  " + kind.kind + " replay: " +
              format("%.2f", ratio(kind.replay->megabytes_per_second, sequential)) + "\n";
    }
    if (kind.readers && kind.readers->pause) {
      const PauseSummary& pause = *kind.readers->pause;
      section("\nreading back / the same files read in 1 MiB requests (MB/s, same box):\n");
      text += "  " + kind.kind + " paused readers catching up: " +
              format("%.2f", ratio(ratio(static_cast<double>(pause.read_back_bytes) / 1e6,
                                         pause.catch_up_seconds),
                                   sequential)) +
              "\n";
    }
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
  text += lap_ratios(run, kinds);
  text += comparisons(kinds);
  text +=
      "\nread/wr: disk bytes read per byte written, from the writers' /proc/PID/io; box "
      "read/wr: the same from the box's cgroup. resident/dirty: the rings' page cache when "
      "the last writer finished the lap. box peak: highest use of the box during the lap. "
      "wall: from the start gate to the last writer's or reader's exit. waiting: time in "
      "calls that waited for the other side, and the waiting thread's CPU time during them.\n";
  return text;
}

}  // namespace ringfile::bench::wrap
