// Small helpers for tests that build rings and move records in one process.
#pragma once

#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "ringfile/consumer.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/ring.hpp"
#include "ringfile/tooling/synthetic.hpp"

namespace ringfile::test {

inline CreateOptions small_ring(std::uint64_t capacity, WriterPolicy policy = WriterPolicy::block,
                                std::uint32_t max_record_bytes = 4096) {
  CreateOptions options;
  options.capacity_bytes = capacity;
  options.policy = policy;
  options.max_record_bytes = max_record_bytes;
  return options;
}

// A synthetic record (see ringfile/tooling/synthetic.hpp) of `size` bytes.
inline std::vector<std::byte> synthetic_payload(std::uint64_t producer_id, std::uint64_t sequence, std::size_t size) {
  std::vector<std::byte> payload(size);
  fill_synthetic(payload, producer_id, sequence);
  return payload;
}

inline std::span<const std::byte> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

// Everything the consumer has ready now, as strings.
inline std::vector<std::string> drain(Consumer& consumer, std::size_t max_records = 1 << 20) {
  std::vector<std::string> payloads;
  for (;;) {
    const PollResult polled = consumer.poll(
        [&](const Record& record) {
          payloads.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
        },
        max_records - payloads.size());
    if (polled.records == 0 || polled.status != PollStatus::ok || payloads.size() >= max_records) break;
  }
  return payloads;
}

}  // namespace ringfile::test
