// The stream both directions work with: created when absent, checked when present. A stream that
// exists with other parameters than those asked for is one clear error, never changed.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <vector>

#include "bridge_settings.hpp"
#include "nats_session.hpp"

namespace ringfile::bridge {

struct StreamFacts {
  jsRetentionPolicy retention = js_LimitsPolicy;
  std::vector<std::string> subjects;
  std::uint64_t messages = 0;
  // When the stream was made (UTC ns, as JetStream says): a stream deleted and made again under
  // the same name starts its sequences afresh, and has another creation time.
  std::uint64_t creation_time_ns = 0;
  bool created = false;
};

// Creates the stream (capturing settings.subject, with --replicas and --max-bytes) when it is
// absent, else checks it captures the subject and has the replicas and size limit asked for.
// Throws RuntimeFailure with the differences, or when JetStream cannot be asked.
StreamFacts ensure_stream(NatsSession& session, const StreamSettings& settings);

// Whether every subject `subject` matches is captured by `pattern` (both may hold wildcards).
bool subject_covers(const std::string& pattern, const std::string& subject);

}  // namespace ringfile::bridge
