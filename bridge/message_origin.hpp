// Where a message in the stream came from: the ring it was read from and the record's position in
// it, in the header `ringfile-bridge out` gives each message:
//
//   Ringfile-Origin: 18c2f0a1b2c3d4e5:1048576  the ring's identity (its creation time, ns, hex) and
//                                              the record's position in that ring
//
// Positions never repeat in a ring (they are byte counts that never wrap), so the pair names one
// record for good, and the last message of a subject tells `out` where to resume. Earlier versions
// carried the same text as the message id (Nats-Msg-Id), which JetStream keeps in a table for its
// duplicate window at a cost per message on the server; streams they wrote are read the same way.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringfile/ring.hpp"

namespace ringfile::bridge {

inline constexpr const char* kOriginHeader = "Ringfile-Origin";
inline constexpr const char* kMessageIdHeader = "Nats-Msg-Id";  // where earlier versions put it

struct MessageOrigin {
  std::string ring_identity;
  std::uint64_t position = 0;
};

// The identity `out` writes for this ring.
std::string ring_identity(const RingInfo& info);
// The origin header's text for the record at `position`.
std::string origin_text(std::string_view ring_identity, std::uint64_t position);

// The origin in a message's origin header (or, from earlier versions, its id), if it parses.
std::optional<MessageOrigin> origin_of(natsMsg* message);

std::optional<std::uint64_t> parse_unsigned(std::string_view text);

}  // namespace ringfile::bridge
