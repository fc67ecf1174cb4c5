#include "wrap/wrap_options.hpp"

#include <unistd.h>

#include <string>

#include "ringfile/programs/command_line.hpp"
#include "ringfile/programs/units.hpp"
#include "support/byte_size.hpp"
#include "support/named_entries.hpp"
#include "wrap/record_stamp.hpp"
#include "wrap/shared_run_state.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

std::string known_kinds() { return names_of(writer_kinds()); }

// The options --quick sets when they are not given.
struct QuickPresetOptions {
  const CLI::Option* rings = nullptr;
  const CLI::Option* ring_size = nullptr;
  const CLI::Option* view_size = nullptr;
  const CLI::Option* ringfile_view_size = nullptr;
};

void apply_quick_preset(const QuickPresetOptions& given, WrapOptions& options) {
  // A smoke test: one small ring, a few seconds, same code paths as a full run.
  if (given.rings->count() == 0) options.ring_count = 1;
  if (given.ring_size->count() == 0) options.ring_bytes = 32ull << 20;
  if (given.view_size->count() == 0) options.view_bytes = 8ull << 20;
  if (given.ringfile_view_size->count() == 0) options.ringfile_view_bytes = 4ull << 20;
}

bool any_ringfile_kind(const WrapOptions& options) {
  for (const std::string& kind : options.kinds) {
    if (kind.rfind("ringfile", 0) == 0) return true;
  }
  return false;
}

// "auto", "ring" or a size, as `ringfile-producer --hold-window` takes it.
std::uint64_t parse_hold_window(const std::string& text) {
  if (text == "auto") return 0;
  if (text == "ring") return kHoldWindowWholeRing;
  const auto bytes = programs::parse_byte_size(text);
  if (!bytes || *bytes == 0) {
    throw programs::UsageError("--hold-window: '" + text + "' is not auto, ring or a size (e.g. 64M)");
  }
  return *bytes;
}

void check_reader_pause(const WrapOptions& options) {
  if (options.reader_pause_bytes == 0) return;
  // Room for the records the writer writes before the reader starts, with ringfile's frame
  // headers and the padding at the end of a lap.
  const std::uint64_t slack = 2 * (options.record_bytes + 64);
  if (options.reader_pause_bytes + slack > options.ring_bytes) {
    throw programs::UsageError("--reader-pause must leave two records of the ring free (at most " +
                     format_byte_size(options.ring_bytes - std::min(slack, options.ring_bytes)) +
                     "): the writer cannot write past an unread ring");
  }
  if (any_ringfile_kind(options) && options.ringfile_hold_window_bytes != kHoldWindowWholeRing &&
      options.ringfile_hold_window_bytes < options.reader_pause_bytes + slack) {
    throw programs::UsageError(
        "--reader-pause needs --hold-window ring (or a window of at least the pause and two "
        "records) for the ringfile kinds: a follower that does not read holds its writer at the "
        "hold window");
  }
}

void check(const WrapOptions& options) {
  const auto page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (options.ring_count == 0 || options.ring_count > kMaxRings) {
    throw programs::UsageError("--rings must be 1.." + std::to_string(kMaxRings));
  }
  if (options.laps == 0 || options.laps > kMaxLaps) {
    throw programs::UsageError("--laps must be 1.." + std::to_string(kMaxLaps));
  }
  if (options.ring_bytes == 0 || options.ring_bytes % page_bytes != 0) {
    throw programs::UsageError("--ring-size must be a non-zero multiple of the page size (" +
                     std::to_string(page_bytes) + ")");
  }
  if (options.record_bytes < kRecordStampBytes || options.record_bytes > options.ring_bytes / 2) {
    throw programs::UsageError("--record-size must be " + std::to_string(kRecordStampBytes) +
                     " bytes .. half the ring");
  }
  if (options.view_bytes < page_bytes || options.view_bytes % page_bytes != 0) {
    throw programs::UsageError("--view-size must be a multiple of the page size");
  }
  if (options.ringfile_view_bytes % page_bytes != 0) {
    throw programs::UsageError("--ringfile-view-size must be a multiple of the page size");
  }
  if (options.kinds.empty()) throw programs::UsageError("--kinds is empty (known: " + known_kinds() + ")");
  for (const std::string& kind : options.kinds) {
    if (find_writer_kind(kind) == nullptr) {
      throw programs::UsageError("unknown writer kind '" + kind + "' (known: " + known_kinds() + ")");
    }
  }
  if (!options.baseline_kind.empty() && find_writer_kind(options.baseline_kind) == nullptr) {
    throw programs::UsageError("unknown --baseline kind '" + options.baseline_kind + "'");
  }
  check_reader_pause(options);
}

}  // namespace

std::optional<int> parse_wrap_options(int argc, char** argv, WrapOptions& options) {
  CLI::App app(
      "Writes N file-backed rings for several laps, one writer process per ring, and shows how\n"
      "each writer kind slows down after the wrap: GB/s per lap, disk bytes read back per byte\n"
      "written, the box's peak memory and the rings' resident bytes. With readers (one per\n"
      "ring, checking every record, optionally slower than the writers): wall time, disk reads,\n"
      "CPU while waiting, major faults, against the same run on tmpfs (--tmpfs-leg). As root it\n"
      "runs in a box: a memory cgroup smaller than the rings and a read throttle on their disk.\n"
      "Sizes are bytes or take K, M, G, T (powers of 1024). Writer kinds: " +
          known_kinds(),
      "ringfile-bench-wrap");
  QuickPresetOptions given;
  given.rings = programs::add_count_option(app, "--rings", options.ring_count, "number of rings, one writer process each")
                    ->default_str("8");
  given.ring_size = programs::add_size_option(app, "--ring-size", options.ring_bytes, "size of each ring file")
                        ->default_str("256M");
  programs::add_size_option(app, "--record-size", options.record_bytes, "size of each record")->default_str("625000");
  programs::add_count_option(app, "--laps", options.laps, "times each writer goes round its ring")->default_str("3");
  given.view_size = programs::add_size_option(app, "--view-size", options.view_bytes,
                                              "mapped view of the naive kind (clamped to the ring size)")
                        ->default_str("256M");
  given.ringfile_view_size =
      programs::add_size_option(app, "--ringfile-view-size", options.ringfile_view_bytes,
                                "view of the ringfile kinds' producer and consumer (OpenOptions::view_bytes; 0: "
                                "the library's default, 8 MiB or less where a ring's memory budget is small)")
          ->default_str("0");
  bool no_checksum = false;
  app.add_flag("--no-checksum", no_checksum, "ringfile kinds: no payload CRC32C (the library computes one by default)");
  std::string hold_window = "auto";
  app.add_option("--hold-window", hold_window,
                 "ringfile kinds with readers: CreateOptions::hold_window_bytes, auto (what fits in memory), ring "
                 "(the whole ring) or a size")
      ->capture_default_str();
  const CLI::Option* kinds =
      app.add_option("--kinds", options.kinds, "writer kinds to run, in this order (default: every kind)")->delimiter(',');
  app.add_option("--baseline", options.baseline_kind, "kind the others are compared with (default: the first of --kinds)");
  app.add_flag("--readers", options.readers,
               "one reader process per ring that checks every record; writers wait for it rather than overwrite "
               "what it has not read");
  programs::add_count_option(app, "--reader-work", options.reader_work,
                             "readers hash every record byte by byte this many times (slow readers; implies --readers)")
      ->default_str("0");
  programs::add_size_option(app, "--reader-pause", options.reader_pause_bytes,
                            "readers start reading only once their writer has written this much, and report what was "
                            "spilled and how fast they read it back (implies --readers)")
      ->default_str("0");
  app.add_flag("--tmpfs-leg", options.tmpfs_leg,
               "run each kind again with its rings on tmpfs (--tmpfs-dir), unboxed, and compare wall times");
  app.add_flag("--tmpfs-first", options.tmpfs_first,
               "run each kind's tmpfs leg before its disk leg (alternate between runs: the load of a shared machine "
               "drifts)");
  app.add_option("--tmpfs-dir", options.tmpfs_directory, "where the tmpfs leg makes its rings")
      ->default_str(options.tmpfs_directory.string());
  app.add_flag("--replay", options.replay,
               "after each kind's laps: drop the rings from memory, replay their history from the oldest record "
               "(kinds with a history reader), and read the same files in 1 MiB requests as dd bs=1M would, in "
               "the same box");
  programs::add_count_option(app, "--settle", options.settle_seconds,
                             "seconds between every writer and reader being set up and the start (lets each ringfile "
                             "producer see the other rings open before it writes: the library recounts them every "
                             "100 ms)")
      ->default_str("0");
  bool no_box = false;
  app.add_flag("--no-box", no_box, "do not create cgroups even as root");
  programs::add_size_option(app, "--box-memory", options.box_memory_bytes,
                            "memory limit of the box (0: half the rings' total)")
      ->default_str("0");
  programs::add_size_option(app, "--read-bps", options.read_bytes_per_second,
                            "disk read throttle of the box in bytes/s (0: none); 200M is 200 MiB/s, write "
                            "200000000 for 200 MB/s")
      ->default_str("200000000");
  programs::add_count_option(app, "--read-iops", options.read_iops, "disk read throttle of the box in requests/s (0: none)")
      ->default_str("2000");
  app.add_option("--dir", options.directory, "where to make the rings' scratch directory")
      ->default_str(options.directory.string());
  app.add_flag("--json", options.json, "print one JSON document instead of tables");
  app.add_flag("--quick", options.quick, "smoke test: 1 ring of 32 MiB (seconds)");
  if (const auto exit_code = programs::parse_command_line(app, argc, argv)) return exit_code;
  options.box = !no_box;
  options.ringfile_checksum = !no_checksum;
  options.ringfile_hold_window_bytes = parse_hold_window(hold_window);
  if (options.reader_work != 0 || options.reader_pause_bytes != 0) options.readers = true;
  if (options.tmpfs_first) options.tmpfs_leg = true;
  if (kinds->count() == 0) {
    for (const WriterKind& kind : writer_kinds()) options.kinds.emplace_back(kind.name);
  }
  if (options.quick) apply_quick_preset(given, options);
  if (options.box_memory_bytes == 0) {
    options.box_memory_bytes = options.ring_count * options.ring_bytes / 2;
  }
  if (options.baseline_kind.empty() && !options.kinds.empty()) {
    options.baseline_kind = options.kinds.front();
  }
  check(options);
  return std::nullopt;
}

}  // namespace ringfile::bench::wrap
