// --prometheus: the text exposition format, every metric family once with its HELP and TYPE,
// one series per ring (and consumer or producer).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "ring_report.hpp"

namespace ringfile::status {

// `unreadable`: rings that could not be opened or read this time; they get ringfile_up 0 and no
// other series (the readable ones ringfile_up 1).
std::string render_prometheus(const std::vector<RingReport>& reports,
                              const std::vector<std::filesystem::path>& unreadable = {});

}  // namespace ringfile::status
