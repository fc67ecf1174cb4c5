// Everything the command line of ringfile-producer asks for, checked for consistency.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ringfile/options.hpp"
#include "ringfile/programs/record_format.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::producer {

inline constexpr std::uint64_t kDefaultRawRecordBytes = 64 * kKiB;
inline constexpr std::uint64_t kDefaultSyntheticRecordBytes = 512;

struct ProducerSettings {
  std::vector<std::filesystem::path> paths;

  // Creating the ring (--create); absent values keep the library's defaults.
  bool create = false;
  std::uint64_t size_bytes = 0;
  std::optional<WriterPolicy> policy;
  std::optional<std::uint64_t> max_record_bytes;
  std::optional<unsigned> file_mode;  // permission bits; absent: 0640
  std::optional<PagingStrategy> paging;
  std::optional<std::uint64_t> hold_window_bytes;  // CreateOptions::hold_window_bytes
  std::optional<std::chrono::milliseconds> consumer_grace;  // CreateOptions::consumer_grace

  // Durability of what this producer commits (--sync).
  SyncPolicy sync;

  // What to write.
  bool synthetic = false;
  std::string input = "-";
  programs::RecordFormat format = programs::RecordFormat::lines;
  programs::SizeRange record_size;  // raw: the chunk size; synthetic: a size or a range
  std::optional<programs::Rate> rate;

  // When each producer process stops; otherwise at the end of input or on SIGINT/SIGTERM.
  std::optional<std::uint64_t> count;
  std::optional<std::uint64_t> byte_limit;
  std::optional<std::chrono::nanoseconds> duration;

  unsigned procs_per_ring = 1;
  bool quiet = false;
  bool json = false;

  std::size_t process_count() const noexcept { return paths.size() * procs_per_ring; }
};

// "none", "interval:T" or "bytes:SIZE"; nullopt if it is none of these.
std::optional<SyncPolicy> parse_sync_policy(std::string_view text);

// The settings, or the exit code when the program should end now (--help, bad usage).
std::variant<ProducerSettings, int> parse_producer_settings(int argc, char** argv);

}  // namespace ringfile::producer
