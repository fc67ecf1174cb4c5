// Several producer processes (one per PATH, times --procs): the parent forks them, shows their
// combined progress, forwards stop signals, waits and sums up.
#pragma once

#include "producer_settings.hpp"
#include "producer_tally.hpp"

namespace ringfile::producer {

struct GroupResult {
  int exit_code = 0;
  TallyTotals totals;
  double seconds = 0;
};

// @pre the rings exist and were checked; the parent holds no Producer (the library remembers the
// identity of the process that attaches, which a forked child must not inherit).
GroupResult run_producer_processes(const ProducerSettings& settings);

}  // namespace ringfile::producer
