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
}

}  // namespace

bool parse_wrap_options(int argc, char** argv, WrapOptions& options) {
  OptionParser parser(
      "ringfile-bench-wrap",
      "Writes N file-backed rings for several laps, one writer process per ring, and shows how\n"
      "each writer kind slows down after the wrap: GB/s per lap, disk bytes read back per byte\n"
      "written, the box's peak memory and the rings' resident bytes. As root it runs in a box:\n"
      "a memory cgroup smaller than the rings and a read throttle on their disk.\n"
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
  parser.add_flag("--ringfile-copy-api", &options.ringfile_copy_api,
                  "ringfile kinds: write with Producer::write() instead of claim/memcpy/commit");
  parser.add_list("--kinds", &options.kinds,
                  "writer kinds to run, in this order (default: every kind)");
  parser.add_text("--baseline", &options.baseline_kind,
                  "kind the others are compared with (default: the first of --kinds)");
  parser.add_flag("--readers", &options.readers, "one reader process per ring, following closely");
  bool no_box = false;
  parser.add_flag("--no-box", &no_box, "do not create cgroups even as root");
  parser.add_byte_size("--box-memory", &options.box_memory_bytes,
                       "memory limit of the box (0: half the rings' total)");
  parser.add_byte_size("--read-bps", &options.read_bytes_per_second,
                       "disk read throttle of the box in bytes/s (0: none); 200MB = 200e6");
  std::string directory = options.directory.string();
  parser.add_text("--dir", &directory, "where to make the rings' scratch directory");
  parser.add_flag("--json", &options.json, "print one JSON document instead of tables");
  parser.add_flag("--quick", &options.quick, "smoke test: 1 ring of 32 MiB (seconds)");
  if (!parser.parse(argc, argv)) return false;
  options.box = !no_box;
  options.ringfile_checksum = !no_checksum;
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
