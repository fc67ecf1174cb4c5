// Paces synthetic records to --rate: records per second, or bytes per second.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "ringfile/programs/units.hpp"

namespace ringfile::producer {

class Pacer {
 public:
  explicit Pacer(std::optional<programs::Rate> rate);
  // Waits until the record after `records` records and `bytes` bytes is due. Returns false when
  // a stop signal arrived while waiting.
  bool wait_turn(std::uint64_t records, std::uint64_t bytes);

 private:
  std::optional<programs::Rate> rate_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace ringfile::producer
