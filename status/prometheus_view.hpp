// --prometheus: the text exposition format, every metric family once with its HELP and TYPE,
// one series per ring (and consumer or producer).
#pragma once

#include <string>
#include <vector>

#include "ring_report.hpp"

namespace ringfile::status {

std::string render_prometheus(const std::vector<RingReport>& reports);

}  // namespace ringfile::status
