// Helpers shared by the child roles and the tests that read their reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"

namespace ringfile::test {

// Size of record `sequence` of `producer_id`: deterministic, spread over [min_bytes, max_bytes].
std::size_t synthetic_size(std::uint64_t producer_id, std::uint64_t sequence, std::size_t min_bytes,
                           std::size_t max_bytes);

// "key=value key=value" -> map.
std::map<std::string, std::string> parse_fields(const std::string& line);

// Starts a consumer child (role `consume`) under `name` ("-": anonymous) at its committed cursor,
// which reads one record and then stops reading, waiting to be killed; returns once it has
// attached. A consumer that holds producers back at a cursor the test knows.
std::unique_ptr<ChildProcess> attached_consumer_child(const std::filesystem::path& path, const std::string& name);

}  // namespace ringfile::test
