// The wrap benchmark's command line.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/options.hpp"

namespace ringfile::bench::wrap {

struct WrapOptions {
  std::uint64_t ring_count = 8;
  std::uint64_t ring_bytes = 256ull << 20;
  std::uint64_t record_bytes = 625'000;  // the record size of the original report
  std::uint64_t laps = 3;
  std::uint64_t view_bytes = 256ull << 20;  // naive kind; clamped to the ring size
  // ringfile kinds: OpenOptions::view_bytes (the library raises it to a power of two). It also
  // sets the paging engine's chunk (half a view) and how far it works ahead and keeps behind.
  std::uint64_t ringfile_view_bytes = 0;  // 0: the library's default (OpenOptions::view_bytes)
  bool ringfile_checksum = true;  // the library's default: a CRC32C per payload
  // CreateOptions::hold_window_bytes of the ringfile kinds: 0 what fits in the memory budget (the
  // library's default), kHoldWindowWholeRing the whole ring, else a size.
  std::uint64_t ringfile_hold_window_bytes = 0;
  std::vector<std::string> kinds;  // empty: every registered kind, in registration order
  std::string baseline_kind;  // ratios are against this kind; empty: the first of `kinds`
  bool readers = false;       // one reader process per ring, following its writer
  std::uint64_t reader_work = 0;         // passes of work per record byte (RecordCheck)
  std::uint64_t reader_pause_bytes = 0;  // readers start once their writer has written this much
  bool tmpfs_leg = false;  // each kind again with its rings on tmpfs, unboxed
  bool tmpfs_first = false;  // the tmpfs leg before the disk leg
  std::filesystem::path tmpfs_directory = "/dev/shm";
  bool replay = false;     // after each kind: its history replayed, and read in 1 MiB requests
  std::uint64_t settle_seconds = 0;  // between every process being set up and the start
  bool box = true;
  std::uint64_t box_memory_bytes = 0;  // 0: half the rings' total
  std::uint64_t read_bytes_per_second = 200'000'000;
  std::uint64_t read_iops = 2000;
  std::filesystem::path directory = "/tmp";  // a fresh subdirectory is made (and removed) here
  bool json = false;
  bool quick = false;
};

// Parses and checks argv. Returns nullopt to run, or the exit code (after --help: 0; a bad option
// or value: 2, with its one-line error printed). Throws programs::UsageError for a value that
// parses but cannot be used.
std::optional<int> parse_wrap_options(int argc, char** argv, WrapOptions& options);

}  // namespace ringfile::bench::wrap
