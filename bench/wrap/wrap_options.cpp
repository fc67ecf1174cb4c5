#include "wrap/wrap_options.hpp"

#include <unistd.h>

#include <string>

#include "support/byte_size.hpp"
#include "support/option_parser.hpp"
#include "support/setup_error.hpp"
#include "wrap/record_stamp.hpp"
#include "wrap/shared_run_state.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

namespace {

std::string known_kinds() {
  std::string names;
  for (const WriterKind& kind : writer_kinds())
    names += (names.empty() ? "" : ", ") + std::string(kind.name);
  return names;
}

void apply_quick_preset(const OptionParser& parser, WrapOptions& options) {
  // A smoke test: one small ring, a few seconds, same code paths as a full run.
  if (!parser.was_given("--rings")) options.ring_count = 1;
  if (!parser.was_given("--ring-size")) options.ring_bytes = 32ull << 20;
  if (!parser.was_given("--view-size")) options.view_bytes = 8ull << 20;
  if (!parser.was_given("--ringfile-view-size")) options.ringfile_view_bytes = 4ull << 20;
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
  if (text == "ring") return kWholeRingHoldWindow;
  const auto bytes = parse_byte_size(text);
  if (!bytes || *bytes == 0) {
    throw SetupError("--hold-window: '" + text + "' is not auto, ring or a size (e.g. 64M)");
  }
  return *bytes;
}

void check_reader_pause(const WrapOptions& options) {
  if (options.reader_pause_bytes == 0) return;
  // Room for the records the writer writes before the reader starts, with ringfile's frame
  // headers and the padding at the end of a lap.
  const std::uint64_t slack = 2 * (options.record_bytes + 64);
  if (options.reader_pause_bytes + slack > options.ring_bytes) {
    throw SetupError("--reader-pause must leave two records of the ring free (at most " +
                     format_byte_size(options.ring_bytes - std::min(slack, options.ring_bytes)) +
                     "): the writer cannot write past an unread ring");
  }
  if (any_ringfile_kind(options) && options.ringfile_hold_window_bytes != kWholeRingHoldWindow &&
      options.ringfile_hold_window_bytes < options.reader_pause_bytes + slack) {
    throw SetupError(
        "--reader-pause needs --hold-window ring (or a window of at least the pause and two "
        "records) for the ringfile kinds: a follower that does not read holds its writer at the "
        "hold window");
  }
}

void check(const WrapOptions& options) {
  const auto page_bytes = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  if (options.ring_count == 0 || options.ring_count > kMaxRings) {
    throw SetupError("--rings must be 1.." + std::to_string(kMaxRings));
  }
  if (options.laps == 0 || options.laps > kMaxLaps) {
    throw SetupError("--laps must be 1.." + std::to_string(kMaxLaps));
  }
  if (options.ring_bytes == 0 || options.ring_bytes % page_bytes != 0) {
    throw SetupError("--ring-size must be a non-zero multiple of the page size (" +
                     std::to_string(page_bytes) + ")");
  }
  if (options.record_bytes < kRecordStampBytes || options.record_bytes > options.ring_bytes / 2) {
    throw SetupError("--record-size must be " + std::to_string(kRecordStampBytes) +
                     " bytes .. half the ring");
  }
  if (options.view_bytes < page_bytes || options.view_bytes % page_bytes != 0) {
    throw SetupError("--view-size must be a multiple of the page size");
  }
  if (options.ringfile_view_bytes < page_bytes || options.ringfile_view_bytes % page_bytes != 0) {
    throw SetupError("--ringfile-view-size must be a multiple of the page size");
  }
  if (options.kinds.empty()) throw SetupError("--kinds is empty (known: " + known_kinds() + ")");
  for (const std::string& kind : options.kinds) {
    if (find_writer_kind(kind) == nullptr) {
      throw SetupError("unknown writer kind '" + kind + "' (known: " + known_kinds() + ")");
    }
  }
  if (!options.baseline_kind.empty() && find_writer_kind(options.baseline_kind) == nullptr) {
    throw SetupError("unknown --baseline kind '" + options.baseline_kind + "'");
  }
  check_reader_pause(options);
}

}  // namespace

bool parse_wrap_options(int argc, char** argv, WrapOptions& options) {
  OptionParser parser(
      "ringfile-bench-wrap",
      "Writes N file-backed rings for several laps, one writer process per ring, and shows how\n"
      "each writer kind slows down after the wrap: GB/s per lap, disk bytes read back per byte\n"
      "written, the box's peak memory and the rings' resident bytes. With readers (one per\n"
      "ring, checking every record, optionally slower than the writers): wall time, disk reads,\n"
      "CPU while waiting, major faults, against the same run on tmpfs (--tmpfs-leg). As root it\n"
      "runs in a box: a memory cgroup smaller than the rings and a read throttle on their disk.\n"
      "Writer kinds: " +
          known_kinds());
  parser.add_count("--rings", &options.ring_count, "number of rings, one writer process each");
  parser.add_byte_size("--ring-size", &options.ring_bytes, "size of each ring file");
  parser.add_byte_size("--record-size", &options.record_bytes, "size of each record");
  parser.add_count("--laps", &options.laps, "times each writer goes round its ring");
  parser.add_byte_size("--view-size", &options.view_bytes,
                       "mapped view of the naive kind (clamped to the ring size)");
  parser.add_byte_size("--ringfile-view-size", &options.ringfile_view_bytes,
                       "view of the ringfile kinds' producer and consumer (OpenOptions::view_bytes)");
  bool no_checksum = false;
  parser.add_flag("--no-checksum", &no_checksum,
                  "ringfile kinds: no payload CRC32C (the library computes one by default)");
  std::string hold_window = "auto";
  parser.add_text("--hold-window", &hold_window,
                  "ringfile kinds with readers: CreateOptions::hold_window_bytes, auto (what fits "
                  "in memory), ring (the whole ring) or a size");
  parser.add_list("--kinds", &options.kinds,
                  "writer kinds to run, in this order (default: every kind)");
  parser.add_text("--baseline", &options.baseline_kind,
                  "kind the others are compared with (default: the first of --kinds)");
  parser.add_flag("--readers", &options.readers,
                  "one reader process per ring that checks every record; writers wait for it "
                  "rather than overwrite what it has not read");
  parser.add_count("--reader-work", &options.reader_work,
                   "readers hash every record byte by byte this many times (slow readers; "
                   "implies --readers)");
  parser.add_byte_size("--reader-pause", &options.reader_pause_bytes,
                       "readers start reading only once their writer has written this much, and "
                       "report what was spilled and how fast they read it back (implies --readers)");
  parser.add_flag("--tmpfs-leg", &options.tmpfs_leg,
                  "run each kind again with its rings on tmpfs (--tmpfs-dir), unboxed, and "
                  "compare wall times");
  parser.add_flag("--tmpfs-first", &options.tmpfs_first,
                  "run each kind's tmpfs leg before its disk leg (alternate between runs: the "
                  "load of a shared machine drifts)");
  std::string tmpfs_directory = options.tmpfs_directory.string();
  parser.add_text("--tmpfs-dir", &tmpfs_directory, "where the tmpfs leg makes its rings");
  parser.add_flag("--replay", &options.replay,
                  "after each kind's laps: drop the rings from memory, replay their history "
                  "from the oldest record (kinds with a history reader), and read the same files "
                  "in 1 MiB requests as dd bs=1M would, in the same box");
  parser.add_count("--settle", &options.settle_seconds,
                   "seconds between every writer and reader being set up and the start (lets "
                   "each ringfile producer see the other rings open before it writes: the "
                   "library recounts them every second)");
  bool no_box = false;
  parser.add_flag("--no-box", &no_box, "do not create cgroups even as root");
  parser.add_byte_size("--box-memory", &options.box_memory_bytes,
                       "memory limit of the box (0: half the rings' total)");
  parser.add_byte_size("--read-bps", &options.read_bytes_per_second,
                       "disk read throttle of the box in bytes/s (0: none); 200MB = 200e6");
  parser.add_count("--read-iops", &options.read_iops,
                   "disk read throttle of the box in requests/s (0: none)");
  std::string directory = options.directory.string();
  parser.add_text("--dir", &directory, "where to make the rings' scratch directory");
  parser.add_flag("--json", &options.json, "print one JSON document instead of tables");
  parser.add_flag("--quick", &options.quick, "smoke test: 1 ring of 32 MiB (seconds)");
  if (!parser.parse(argc, argv)) return false;
  options.box = !no_box;
  options.ringfile_checksum = !no_checksum;
  options.ringfile_hold_window_bytes = parse_hold_window(hold_window);
  options.tmpfs_directory = tmpfs_directory;
  if (options.reader_work != 0 || options.reader_pause_bytes != 0) options.readers = true;
  if (options.tmpfs_first) options.tmpfs_leg = true;
  if (!parser.was_given("--kinds")) {
    for (const WriterKind& kind : writer_kinds()) options.kinds.emplace_back(kind.name);
  }
  options.directory = directory;
  if (options.quick) apply_quick_preset(parser, options);
  if (options.box_memory_bytes == 0) {
    options.box_memory_bytes = options.ring_count * options.ring_bytes / 2;
  }
  if (options.baseline_kind.empty() && !options.kinds.empty()) {
    options.baseline_kind = options.kinds.front();
  }
  check(options);
  return true;
}

}  // namespace ringfile::bench::wrap
