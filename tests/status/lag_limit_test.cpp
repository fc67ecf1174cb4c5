// --max-lag's judgement of a report (status/lag_limit.cpp): which consumers are over a size or a
// duration, including those whose lag has no age.
#include <doctest/doctest.h>

#include "lag_limit.hpp"

using namespace ringfile;
using namespace ringfile::status;

namespace {

constexpr std::uint64_t kCapacity = 1 << 20;

// A ring of kCapacity whose head is at 2.5 rings, with one consumer at `position`.
RingReport report_with_consumer(std::uint64_t position, std::optional<double> lag_seconds,
                                std::uint64_t prepared_position,
                                PagingStrategy paging = PagingStrategy::zero_range) {
  RingReport report;
  report.path = "/data/orders.ring";
  report.capacity = kCapacity;
  report.paging = paging;
  report.head = 5 * kCapacity / 2;
  report.paging_state.prepared_position = prepared_position;
  ConsumerReport consumer;
  consumer.name = "billing";
  consumer.alive = true;
  consumer.position = position;
  consumer.lag_bytes = report.head - position;
  consumer.lag_seconds = lag_seconds;
  report.consumers.push_back(consumer);
  return report;
}

LagLimit within(std::chrono::nanoseconds time) {
  LagLimit limit;
  limit.time = time;
  return limit;
}

}  // namespace

TEST_CASE("--max-lag DURATION: a lag without an age is over it where the record is gone, not where it is being written") {
  const std::uint64_t head = 5 * kCapacity / 2;
  const std::uint64_t position = head - 9 * kCapacity / 10;  // 0.9 of a ring behind
  // The paging engine has invalidated the old lap up to 0.2 of a ring past the head: the bytes
  // from 1.7 rings on, the consumer's next record among them.
  const std::uint64_t prepared = head + kCapacity / 5;
  const std::vector<std::string> dropped =
      lag_violations(report_with_consumer(position, std::nullopt, prepared), within(std::chrono::hours(1)));
  REQUIRE(dropped.size() == 1);
  CHECK(dropped[0].find("consumer 'billing'") != std::string::npos);
  CHECK(dropped[0].find("already dropped ahead of the producers") != std::string::npos);

  CHECK(lag_violations(report_with_consumer(position, std::nullopt, prepared, PagingStrategy::punch_hole),
                       within(std::chrono::hours(1)))
            .size() == 1);

  // Not yet dropped (prepared only to the head): no age because a producer is still writing the
  // record there, which is not judged.
  CHECK(lag_violations(report_with_consumer(position, std::nullopt, head), within(std::chrono::hours(1))).empty());
  // Nor where the engine keeps what it prepares (it reads ahead): an open claim too.
  CHECK(lag_violations(report_with_consumer(position, std::nullopt, prepared, PagingStrategy::prefetch_only),
                       within(std::chrono::hours(1)))
            .empty());
  // With an age, the age is what counts.
  CHECK(lag_violations(report_with_consumer(position, 5.0, prepared), within(std::chrono::hours(1))).empty());
  CHECK(lag_violations(report_with_consumer(position, 5.0, prepared), within(std::chrono::seconds(1))).size() == 1);
  // More than a ring behind, as before.
  CHECK(lag_violations(report_with_consumer(head - 2 * kCapacity, std::nullopt, 0), within(std::chrono::hours(1)))
            .size() == 1);
  // A size limit ignores ages.
  LagLimit size;
  size.bytes = kCapacity;
  CHECK(lag_violations(report_with_consumer(position, std::nullopt, prepared), size).empty());
}
