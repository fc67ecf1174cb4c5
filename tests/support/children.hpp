// Helpers shared by the child roles and the tests that read their reports.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ringfile::test {

// Size of record `sequence` of `producer_id`: deterministic, spread over [min_bytes, max_bytes].
std::size_t synthetic_size(std::uint64_t producer_id, std::uint64_t sequence, std::size_t min_bytes,
                           std::size_t max_bytes);

// "key=value key=value" -> map.
std::map<std::string, std::string> parse_fields(const std::string& line);

// For the child roles: prints a report line on stdout and flushes it (the parent waits for it).
void say(const std::string& line);
// /proc/self/io read_bytes: bytes this process caused to be read from storage.
std::uint64_t disk_read_bytes();

// The roles of readers_box_test (reader_children.cpp): the exit code, or nullopt when `role` is
// not one of them.
std::optional<int> run_reader_role(const std::string& role, int argc, char** argv);

}  // namespace ringfile::test
