// Where a message in the stream came from: the ring it was read from and the record's position in
// it, carried in headers by `ringfile-bridge out`.
//
//   Ringfile-Ring: 18c2f0a1b2c3d4e5        the ring's identity: its creation time (ns, hex)
//   Ringfile-Position: 1048576             the record's position in that ring
//   Nats-Msg-Id: 18c2f0a1b2c3d4e5:1048576  both: JetStream drops a second copy within its window
//
// Positions never repeat in a ring (they are byte counts that never wrap), so the pair names one
// record for good, and the last message of a subject tells `out` where to resume.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ringfile/ring.hpp"

namespace ringfile::bridge {

inline constexpr const char* kRingHeader = "Ringfile-Ring";
inline constexpr const char* kPositionHeader = "Ringfile-Position";

struct MessageOrigin {
  std::string ring_identity;
  std::uint64_t position = 0;
};

// The identity `out` writes for this ring.
std::string ring_identity(const RingInfo& info);
// The JetStream message id of the record at `position`.
std::string message_id(std::string_view ring_identity, std::uint64_t position);

// Sets the two headers. Returns the client's status.
natsStatus set_origin(natsMsg* message, std::string_view ring_identity, std::uint64_t position);
// The headers of a message, if it has both and they parse.
std::optional<MessageOrigin> origin_of(natsMsg* message);

std::optional<std::uint64_t> parse_unsigned(std::string_view text);

}  // namespace ringfile::bridge
