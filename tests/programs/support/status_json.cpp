#include "support/status_json.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "support/json_value.hpp"
#include "support/program.hpp"

namespace ringfile::program_test {
namespace {

std::optional<double> optional_double(const JsonValue& value) {
  return value.is_null() ? std::nullopt : std::optional<double>(value.as_double());
}

std::optional<std::uint64_t> optional_uint(const JsonValue& value) {
  return value.is_null() ? std::nullopt : std::optional<std::uint64_t>(value.as_uint());
}

}  // namespace

const StatusConsumer& StatusDocument::consumer(const std::string& name) const {
  for (const auto& candidate : consumers) {
    if (candidate.name == name) return candidate;
  }
  FAIL("ringfile-status shows no consumer named '" << name << "'");
  throw std::logic_error("unreachable");
}

StatusDocument parse_status_document(const std::string& json_line) {
  const JsonValue json = JsonValue::parse(json_line);
  StatusDocument document;
  document.path = json["path"].as_string();
  document.capacity = json["capacity"].as_uint();
  document.head = json["head"].as_uint();
  document.write_bytes_per_s = optional_double(json["write_bytes_per_s"]);
  document.resident_bytes = json["resident_bytes"].as_uint();
  document.producers_waiting = json["producers_waiting"].as_uint();
  for (const JsonValue& item : json["consumers"].items()) {
    StatusConsumer consumer;
    consumer.slot = static_cast<std::uint32_t>(item["slot"].as_uint());
    consumer.name = item["name"].as_string();
    consumer.pid = item["pid"].as_uint();
    consumer.alive = item["alive"].as_bool();
    consumer.state = item["state"].as_string();
    consumer.position = item["position"].as_uint();
    consumer.lag_bytes = item["lag_bytes"].as_uint();
    consumer.lag_seconds = optional_double(item["lag_seconds"]);
    consumer.lag_records_estimate = optional_uint(item["lag_records_estimate"]);
    consumer.holds_back = item["holds_back"].as_bool();
    consumer.detached = item["detached"].as_bool();
    consumer.lost_records = optional_uint(item["lost_records"]);  // null: bytes lost, how many records unknown
    document.consumers.push_back(consumer);
  }
  for (const JsonValue& item : json["producers"].items()) {
    StatusProducer producer;
    producer.slot = static_cast<std::uint32_t>(item["slot"].as_uint());
    producer.pid = item["pid"].as_uint();
    producer.alive = item["alive"].as_bool();
    producer.committed_records = item["committed_records"].as_uint();
    producer.waiting = item["waiting"].as_bool();
    if (!item["waiting_seconds"].is_null()) producer.waiting_seconds = item["waiting_seconds"].as_double();
    if (!item["waiting_for"].is_null()) producer.waiting_for = item["waiting_for"].as_string();
    producer.waited_seconds_total = item["waited_seconds_total"].as_double();
    document.producers.push_back(producer);
  }
  return document;
}

StatusDocument status_of(const std::string& ring, const std::string& work_dir, const std::string& interval) {
  const Result result = run(kStatus, {ring, "--json", "--interval", interval}, work_dir);
  INFO("ringfile-status stderr: " << result.err);
  REQUIRE(result.exit_code == 0);
  const std::string first_line = result.out.substr(0, result.out.find('\n'));
  return parse_status_document(first_line);
}

}  // namespace ringfile::program_test
