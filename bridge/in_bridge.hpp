// ringfile-bridge in: a durable JetStream pull consumer that appends every message to a ring, in
// stream order, and acknowledges a message only after its record is committed in the ring.
//
// Nothing is written twice: the write journal (write_journal.hpp) keeps the stream sequence of
// the last message the ring holds, decided against the ring itself after a crash; messages at or
// below it are acknowledged and skipped. Nothing is lost: a message is acknowledged only once
// committed, and the durable is rewound to the message after the journal's whenever a delivery
// may have gone missing (durable_consumer.hpp). A full ring (block policy) makes the bridge wait,
// and so JetStream keeps the messages: back-pressure reaches the stream.
#pragma once

#include "bridge_settings.hpp"

namespace ringfile::bridge {

// Runs until a stop condition or signal; returns the exit code. Throws on setup failures.
int run_in(const InSettings& settings);

}  // namespace ringfile::bridge
