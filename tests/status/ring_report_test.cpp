// The report built from samples (status/ring_report.cpp): a consumer whose slot says what no
// consumer can have done is DAMAGED, with what and what to do; a sound one is judged as before.
#include <doctest/doctest.h>

#include "ring_report.hpp"
#include "table_view.hpp"

using namespace ringfile;
using namespace ringfile::status;

namespace {

constexpr std::uint64_t kCapacity = 1 << 20;
constexpr std::uint64_t kHead = 3 * kCapacity;

// One sample of a ring of kCapacity whose head is at kHead, producers having written 1000
// records, with one live named consumer "billing" at `cursor`.
RingSample sample_with_consumer(std::uint64_t cursor) {
  RingSample sample;
  sample.info.path = "/data/orders.ring";
  sample.info.capacity_bytes = kCapacity;
  sample.head = kHead;
  sample.records_written = 1000;
  ConsumerInfo consumer;
  consumer.slot = 4;
  consumer.name = "billing";
  consumer.pid = 1234;
  consumer.alive = true;
  consumer.cursor = cursor;
  sample.consumers.push_back({consumer, std::nullopt, std::nullopt});
  return sample;
}

ConsumerReport only_consumer(const RingSample& sample) {
  const RingReport report = build_report(nullptr, sample);
  REQUIRE(report.consumers.size() == 1);
  return report.consumers[0];
}

}  // namespace

TEST_CASE("a cursor beyond the head is DAMAGED: a crash of the machine or a damaged slot, and --from to go on") {
  const RingSample sample = sample_with_consumer(kHead + 4096);
  const ConsumerReport consumer = only_consumer(sample);
  CHECK(consumer.state == ConsumerHealth::damaged);
  CHECK(std::string(to_string(consumer.state)) == "DAMAGED");
  CHECK(consumer.damage.find("its cursor " + std::to_string(kHead + 4096) + " is beyond the head " +
                             std::to_string(kHead)) != std::string::npos);
  CHECK(consumer.damage.find("--from latest") != std::string::npos);

  const std::vector<std::string> lines = damage_lines(build_report(nullptr, sample));
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("consumer 'billing' (slot 4) of '/data/orders.ring': its cursor") == 0);
}

TEST_CASE("a cursor between records, or losses beyond what producers wrote, are DAMAGED - a sound slot is not") {
  CHECK(only_consumer(sample_with_consumer(kHead - 4)).damage.find("no position a record starts at") !=
        std::string::npos);

  RingSample lost_bytes = sample_with_consumer(kHead - 4096);
  lost_bytes.consumers[0].info.lost_bytes = kHead + 8;
  CHECK(only_consumer(lost_bytes).state == ConsumerHealth::damaged);

  RingSample lost_records = sample_with_consumer(kHead - 4096);
  lost_records.consumers[0].info.lost_records = ~std::uint64_t{0};
  const ConsumerReport counted = only_consumer(lost_records);
  CHECK(counted.state == ConsumerHealth::damaged);
  CHECK(counted.damage.find("18446744073709551615 records lost, more than producers ever wrote (1000)") !=
        std::string::npos);

  // At the head, having lost all there was: sound.
  RingSample sound = sample_with_consumer(kHead);
  sound.consumers[0].info.lost_bytes = kHead;
  sound.consumers[0].info.lost_records = 1000;
  const ConsumerReport kept = only_consumer(sound);
  CHECK(kept.state == ConsumerHealth::ok);
  CHECK(kept.damage.empty());
  CHECK(damage_lines(build_report(nullptr, sound)).empty());
}

TEST_CASE("the consumer table's line counts dead anonymous consumers as free for the next one, not as full") {
  // Found by a tester: a table of SIGKILLed anonymous consumers was called FULL, with advice to
  // delete names, which they have none of; a new consumer takes such a slot.
  RingSample sample = sample_with_consumer(kHead);
  sample.consumers.clear();
  for (std::uint32_t slot = 0; slot < 64; ++slot) {
    ConsumerInfo consumer;
    consumer.slot = slot;
    consumer.pid = 1000 + slot;
    consumer.alive = slot >= 60;  // 60 dead anonymous consumers, 4 live ones
    consumer.cursor = kHead;
    sample.consumers.push_back({consumer, std::nullopt, std::nullopt});
  }
  RingReport report = build_report(nullptr, sample);
  report.consumer_slots_used = 64;
  report.consumer_slots = 64;
  const std::string table = render_table(report, TableStyle{});
  CHECK(table.find("consumer slots 64/64 used (60 of them free for the next consumer") != std::string::npos);
  CHECK(table.find("FULL") == std::string::npos);

  // Named ones, attached or not, do fill it.
  for (auto& consumer : sample.consumers) consumer.info.name = "name" + std::to_string(consumer.info.slot);
  report = build_report(nullptr, sample);
  report.consumer_slots_used = 64;
  report.consumer_slots = 64;
  CHECK(render_table(report, TableStyle{}).find("consumer slots 64/64 used (FULL: delete names that are gone") !=
        std::string::npos);
}
