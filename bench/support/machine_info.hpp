// What a report says about when and where it was measured: on a shared 2-core machine the load
// from other work is part of every figure, so it is printed with them.
#pragma once

#include <string>

namespace ringfile::bench {

std::string utc_now_iso8601();
std::string kernel_release();
// The 1-, 5- and 15-minute load averages, "0.52 0.60 0.41"; "unknown" if unreadable.
std::string load_averages();

}  // namespace ringfile::bench
