// out's publish window: replies found by their tokens, the cursor's limit (the oldest record not
// acknowledged), and what a recovery sends again.
#include <doctest/doctest.h>

#include <vector>

#include "publish_window.hpp"

using ringfile::bridge::PublishReply;
using ringfile::bridge::PublishWindow;

namespace {

std::vector<std::byte> payload_of(std::size_t bytes) { return std::vector<std::byte>(bytes, std::byte{7}); }

PublishReply stored() {
  PublishReply reply;
  reply.stored = true;
  return reply;
}

PublishReply chain_refused() {
  PublishReply reply;
  reply.code = 400;
  reply.js_code = 10070;
  reply.description = "wrong last msg ID";
  return reply;
}

}  // namespace

TEST_CASE("replies in any order: the window releases records from the front only") {
  PublishWindow window;
  window.published(100, 5, payload_of(10));
  window.published(200, 6, payload_of(20));
  window.published(300, 7, payload_of(30));
  CHECK(window.payload_bytes() == 60);
  window.replied(6, stored());
  CHECK(window.oldest_position() == 100);  // 100 still waits
  CHECK(window.acknowledged() == 0);
  window.replied(5, stored());
  CHECK(window.oldest_position() == 300);
  CHECK(window.acknowledged() == 2);
  CHECK(window.acknowledged_bytes() == 30);
  CHECK(window.payload_bytes() == 30);
  // Replies for tokens the window does not hold (before it, after it, twice) change nothing.
  window.replied(4, stored());
  window.replied(6, stored());
  window.replied(9, stored());
  CHECK(window.size() == 1);
  window.replied(7, stored());
  CHECK(window.size() == 0);
  CHECK_FALSE(window.oldest_position().has_value());
  CHECK_FALSE(window.failure().has_value());
}

TEST_CASE("a refusal is the window's failure; recovery sends again what the stream does not hold, in order") {
  PublishWindow window;
  for (std::uint64_t index = 0; index < 4; ++index) window.published(100 * (index + 1), 10 + index, payload_of(index + 1));
  window.replied(11, stored());
  window.replied(12, chain_refused());
  window.replied(13, chain_refused());
  REQUIRE(window.failure().has_value());
  CHECK(window.failure()->js_code == 10070);
  CHECK(window.failure()->text.find("10070") != std::string::npos);
  CHECK(window.oldest_position() == 100);

  // The stream says it holds this ring's records up to 100 (the first one's reply was lost).
  const auto unstored = window.take_unstored(100);
  REQUIRE(unstored.size() == 2);
  CHECK(unstored[0].position == 300);
  CHECK(unstored[0].payload.size() == 3);
  CHECK(unstored[1].position == 400);
  CHECK(unstored[1].payload.size() == 4);
  CHECK(window.acknowledged() == 2);  // 100 (found in the stream) and 200 (acknowledged)
  CHECK(window.acknowledged_bytes() == 3);
  CHECK(window.size() == 0);
  CHECK(window.payload_bytes() == 0);
  CHECK_FALSE(window.failure().has_value());
}

TEST_CASE("a broken connection is a failure, the first one reported is kept") {
  PublishWindow window;
  window.published(8, 0, payload_of(1));
  window.connection_failed({NATS_CONNECTION_CLOSED, 0, "the server closed the connection"});
  window.replied(0, chain_refused());
  REQUIRE(window.failure().has_value());
  CHECK(window.failure()->status == NATS_CONNECTION_CLOSED);
  CHECK(window.failure()->transient());
  const auto unstored = window.take_unstored(std::nullopt);
  REQUIRE(unstored.size() == 1);
  CHECK(unstored[0].position == 8);
}
