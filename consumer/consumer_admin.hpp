// ringfile-consumer --list, --describe, --delete and --reset: the named consumers of a ring, seen
// and managed as kafka-consumer-groups does for groups.
#pragma once

#include "consumer_settings.hpp"

namespace ringfile::consumer {

// Runs the action the settings ask for (not Action::read); returns the exit code.
int manage_consumers(const ConsumerSettings& settings);

}  // namespace ringfile::consumer
