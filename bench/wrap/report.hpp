// The wrap benchmark's output: a table per lap and kind, the ratios between laps and between
// kinds, or the same as one JSON document.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "support/machine_info.hpp"
#include "wrap/kind_run.hpp"
#include "wrap/wrap_options.hpp"

namespace ringfile::bench::wrap {

struct RunDescription {
  const WrapOptions& options;
  std::vector<std::string> box_notes;
  std::filesystem::path ring_directory;
  RunMachine machine;
};

std::string text_report(const RunDescription& run, const std::vector<KindResult>& kinds);
std::string json_report(const RunDescription& run, const std::vector<KindResult>& kinds);

}  // namespace ringfile::bench::wrap
