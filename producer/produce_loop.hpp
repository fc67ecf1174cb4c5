// The work of one producer process on one ring: write records until the input ends, a
// --count/--bytes/--duration limit is reached, or a stop signal arrives.
#pragma once

#include "producer_settings.hpp"
#include "producer_tally.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::producer {

// Returns the exit code; throws for failures (bad input, a record dropped on a second signal).
// `progress` is null when a parent process shows progress for all of its producers.
int produce(const ProducerSettings& settings, const Ring& ring, ProducerTally& tally,
            programs::ProgressLine* progress);

}  // namespace ringfile::producer
