// The wrap benchmark's output: a table per lap and kind, the ratios between laps and between
// kinds, or the same as one JSON document.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "wrap/kind_run.hpp"
#include "wrap/wrap_options.hpp"

namespace ringfile::bench::wrap {

struct RunDescription {
  const WrapOptions& options;
  std::vector<std::string> box_notes;
  std::filesystem::path ring_directory;
  std::string started_at_utc;  // ISO 8601
  std::string kernel_release;
  int online_cpus = 0;
  std::string load_at_start;  // load averages: other work on the machine shares the disk and CPUs
  std::string load_at_end;
};

std::string text_report(const RunDescription& run, const std::vector<KindResult>& kinds);
std::string json_report(const RunDescription& run, const std::vector<KindResult>& kinds);

}  // namespace ringfile::bench::wrap
