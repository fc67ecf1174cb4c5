#include "message_origin.hpp"

#include <charconv>
#include <cstdio>

namespace ringfile::bridge {

std::string ring_identity(const RingInfo& info) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(info.creation_time_ns));
  return text;
}

std::string message_id(std::string_view ring_identity, std::uint64_t position) {
  std::string id(ring_identity);
  id += ':';
  id += std::to_string(position);
  return id;
}

natsStatus set_origin(natsMsg* message, std::string_view ring_identity, std::uint64_t position) {
  const std::string identity(ring_identity);
  natsStatus status = natsMsgHeader_Set(message, kRingHeader, identity.c_str());
  if (status == NATS_OK) status = natsMsgHeader_Set(message, kPositionHeader, std::to_string(position).c_str());
  return status;
}

std::optional<MessageOrigin> origin_of(natsMsg* message) {
  const char* identity = nullptr;
  const char* position = nullptr;
  if (natsMsgHeader_Get(message, kRingHeader, &identity) != NATS_OK || identity == nullptr) return std::nullopt;
  if (natsMsgHeader_Get(message, kPositionHeader, &position) != NATS_OK || position == nullptr) return std::nullopt;
  const auto parsed = parse_unsigned(position);
  if (!parsed) return std::nullopt;
  return MessageOrigin{identity, *parsed};
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace ringfile::bridge
