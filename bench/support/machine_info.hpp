// What a report says about when and where it was measured: on a shared 2-core machine the load
// from other work is part of every figure, so it is printed with them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ringfile/programs/json_writer.hpp"

namespace ringfile::bench {

std::string utc_now_iso8601();
std::string kernel_release();
// Bytes an unprivileged user may still write on the filesystem of `directory` (statvfs
// f_bavail); nullopt when it cannot be asked.
std::optional<std::uint64_t> free_bytes(const std::filesystem::path& directory);
// The 1-, 5- and 15-minute load averages, "0.52 0.60 0.41"; "unknown" if unreadable.
std::string load_averages();

// When and where one benchmark run was measured, as its reports print it.
struct RunMachine {
  std::string started_at_utc;  // ISO 8601
  std::string kernel_release;
  int online_cpus = 0;
  std::string load_at_start;  // load averages: other work on the machine shares the disk and CPUs
  std::string load_at_end;

  static RunMachine at_start();
  void finish() { load_at_end = load_averages(); }
  void write_json_fields(programs::JsonWriter& json, const std::string& program) const;
};

}  // namespace ringfile::bench
