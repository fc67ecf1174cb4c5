// A stream message's origin (ring identity and record position), read from its Ringfile-Origin header
// (or from earlier versions' message id): what `out` resumes from after a restart.
#include <doctest/doctest.h>

#include "message_origin.hpp"
#include "nats_session.hpp"

using ringfile::bridge::origin_text;
using ringfile::bridge::MessagePtr;
using ringfile::bridge::origin_of;

namespace {

MessagePtr message_with_header(const char* header, const char* text) {
  REQUIRE(nats_Open(-1) == NATS_OK);  // messages are freed through the library's collector
  natsMsg* message = nullptr;
  REQUIRE(natsMsg_Create(&message, "orders", nullptr, "x", 1) == NATS_OK);
  MessagePtr owned(message);
  if (text != nullptr) REQUIRE(natsMsgHeader_Set(message, header, text) == NATS_OK);
  return owned;
}

MessagePtr message_with_origin(const char* origin) { return message_with_header("Ringfile-Origin", origin); }

}  // namespace

TEST_CASE("a message's origin is the ring identity and position of the id out gave it") {
  const std::string text = origin_text("18c2f0a1b2c3d4e5", 1048576);
  CHECK(text == "18c2f0a1b2c3d4e5:1048576");
  const auto origin = origin_of(message_with_origin(text.c_str()).get());
  REQUIRE(origin.has_value());
  CHECK(origin->ring_identity == "18c2f0a1b2c3d4e5");
  CHECK(origin->position == 1048576);
  // Position 0 is a position; the identity ends at the last colon.
  const auto first = origin_of(message_with_origin("a:b:0").get());
  REQUIRE(first.has_value());
  CHECK(first->ring_identity == "a:b");
  CHECK(first->position == 0);
}

TEST_CASE("streams written by earlier versions: the origin is read from the message id") {
  const auto origin = origin_of(message_with_header("Nats-Msg-Id", "18c2f0a1b2c3d4e5:64").get());
  REQUIRE(origin.has_value());
  CHECK(origin->ring_identity == "18c2f0a1b2c3d4e5");
  CHECK(origin->position == 64);
}

TEST_CASE("a message without an origin of out's form has no origin") {
  CHECK_FALSE(origin_of(message_with_origin(nullptr).get()));
  CHECK_FALSE(origin_of(message_with_origin("order-42").get()));
  CHECK_FALSE(origin_of(message_with_origin("18c2f0a1b2c3d4e5:").get()));
  CHECK_FALSE(origin_of(message_with_origin(":1048576").get()));
  CHECK_FALSE(origin_of(message_with_origin("18c2f0a1b2c3d4e5:12x").get()));
  CHECK_FALSE(origin_of(message_with_origin("18c2f0a1b2c3d4e5:-1").get()));
  CHECK_FALSE(origin_of(message_with_origin("18c2f0a1b2c3d4e5:99999999999999999999").get()));
}
