// ringfile-bridge out: a named consumer of the ring that publishes every record to JetStream.
//
// Order and exactly-once rest on three things (docs/bridge.md has the whole argument):
// - Resume point: the stream itself. On start and after any failure the bridge asks the stream
//   for the last message of its subject; its headers name the ring and the position of the last
//   record stored, and reading goes on right after it. The ring cursor is committed only up to
//   the oldest record not yet acknowledged, so nothing after the resume point was released.
// - Chaining: each message but the first after a (re)start expects the stream's last message id
//   to be its predecessor's (Nats-Expected-Last-Msg-Id). A message that was lost therefore makes
//   every later one in flight fail too: the stream never holds a record after a gap.
// - The first message after a (re)start expects the subject's last sequence to be the one just
//   read, so a message that arrives late from before cannot slip in under it unnoticed.
#pragma once

#include "bridge_settings.hpp"

namespace ringfile::bridge {

// Runs until a stop condition or signal; returns the exit code. Throws on setup failures.
int run_out(const OutSettings& settings);

}  // namespace ringfile::bridge
