// Where a message in the stream came from: the ring it was read from and the record's position in
// it, carried in the message id `ringfile-bridge out` gives each message:
//
//   Nats-Msg-Id: 18c2f0a1b2c3d4e5:1048576  the ring's identity (its creation time, ns, hex) and
//                                          the record's position in that ring
//
// Positions never repeat in a ring (they are byte counts that never wrap), so the pair names one
// record for good, and the last message of a subject tells `out` where to resume. One header does
// it: JetStream needs the id anyway (the chain of expected ids), and each header costs the client
// allocations per message (a third of out's time at 64 B with two more).
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringfile/ring.hpp"

namespace ringfile::bridge {

inline constexpr const char* kMessageIdHeader = "Nats-Msg-Id";

struct MessageOrigin {
  std::string ring_identity;
  std::uint64_t position = 0;
};

// The identity `out` writes for this ring.
std::string ring_identity(const RingInfo& info);
// The JetStream message id of the record at `position`.
std::string message_id(std::string_view ring_identity, std::uint64_t position);

// The origin in a message's id, if it has one that parses.
std::optional<MessageOrigin> origin_of(natsMsg* message);

std::optional<std::uint64_t> parse_unsigned(std::string_view text);

}  // namespace ringfile::bridge
