// The reply subject of a delivered JetStream message, read in place (`in` does it per message).
#include <doctest/doctest.h>

#include "pull_requests.hpp"

using ringfile::bridge::delivery_of;
using ringfile::bridge::MessagePtr;

namespace {

MessagePtr message_with_reply(const char* reply) {
  REQUIRE(nats_Open(-1) == NATS_OK);  // messages are freed through the library's collector
  natsMsg* message = nullptr;
  REQUIRE(natsMsg_Create(&message, "orders", reply, "x", 1) == NATS_OK);
  return MessagePtr(message);
}

}  // namespace

TEST_CASE("a delivery's stream sequence, consumer sequence and pending count come from its reply subject") {
  // The form of nats-server 2.9: stream, consumer, delivered, stream seq, consumer seq, time, pending.
  const auto old_form = delivery_of(message_with_reply("$JS.ACK.ORDERS.far.1.1042.17.1700000000000000000.99").get());
  REQUIRE(old_form.has_value());
  CHECK(old_form->stream_sequence == 1042);
  CHECK(old_form->consumer_sequence == 17);
  CHECK(old_form->pending == 99);
  // The newer form: a domain and an account hash first, a random token last.
  const auto new_form =
      delivery_of(message_with_reply("$JS.ACK._.ACCHASH.ORDERS.far.3.77.55.1700000000000000000.0.XyZ").get());
  REQUIRE(new_form.has_value());
  CHECK(new_form->stream_sequence == 77);
  CHECK(new_form->consumer_sequence == 55);
  CHECK(new_form->pending == 0);
}

TEST_CASE("a message that is not a JetStream delivery has no delivery") {
  CHECK_FALSE(delivery_of(message_with_reply("_INBOX.abc").get()));
  CHECK_FALSE(delivery_of(message_with_reply("$JS.ACK.ORDERS.far.1").get()));
  CHECK_FALSE(delivery_of(message_with_reply("$JS.ACK.ORDERS.far.1.x.17.1700000000000000000.99").get()));
  natsMsg* message = nullptr;
  REQUIRE(natsMsg_Create(&message, "orders", nullptr, "x", 1) == NATS_OK);
  CHECK_FALSE(delivery_of(MessagePtr(message).get()));
}
