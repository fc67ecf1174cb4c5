#include "message_origin.hpp"

#include <charconv>
#include <cstdio>

namespace ringfile::bridge {

std::string ring_identity(const RingInfo& info) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(info.creation_time_ns));
  return text;
}

std::string origin_text(std::string_view ring_identity, std::uint64_t position) {
  std::string id(ring_identity);
  id += ':';
  id += std::to_string(position);
  return id;
}

std::optional<MessageOrigin> origin_of(natsMsg* message) {
  const char* found = nullptr;
  if ((natsMsgHeader_Get(message, kOriginHeader, &found) != NATS_OK || found == nullptr) &&
      (natsMsgHeader_Get(message, kMessageIdHeader, &found) != NATS_OK || found == nullptr)) {
    return std::nullopt;
  }
  const std::string_view text(found);
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  const auto position = parse_unsigned(text.substr(colon + 1));
  if (!position) return std::nullopt;
  return MessageOrigin{std::string(text.substr(0, colon)), *position};
}

std::optional<std::uint64_t> parse_unsigned(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace ringfile::bridge
