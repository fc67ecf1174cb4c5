// Helpers shared by the child roles and the tests that read their reports.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ringfile/producer.hpp"
#include "support/child_process.hpp"

namespace ringfile::test {

// Size of record `sequence` of `producer_id`: deterministic, spread over [min_bytes, max_bytes].
std::size_t synthetic_size(std::uint64_t producer_id, std::uint64_t sequence, std::size_t min_bytes,
                           std::size_t max_bytes);

// The roles of the fault suite (fault_children.cpp): false when `role` is none of them.
bool run_fault_role(const std::string& role, int argc, char** argv, int* exit_code);

// What a verifying `consume` child reported by its end: per producer id the fields of its
// "producer" line, and those of its "result" line. Fails the test on an "error" line.
struct ConsumerReport {
  std::map<std::uint64_t, std::map<std::string, std::string>> producers;
  std::map<std::string, std::string> result;
};
ConsumerReport read_report(ChildProcess& child);

// "key=value key=value" -> map.
std::map<std::string, std::string> parse_fields(const std::string& line);

// Starts a consumer child (role `consume`) under `name` ("-": anonymous) at its committed cursor,
// which reads one record and then stops reading, waiting to be killed; returns once it has
// attached. A consumer that holds producers back at a cursor the test knows.
std::unique_ptr<ChildProcess> attached_consumer_child(const std::filesystem::path& path, const std::string& name);
// Reads a consumer child's lines until it says "halted": it has read the records it was told to
// (committed), and reads no more.
void wait_until_halted(ChildProcess& child);
// The child's next line, which must start with `prefix` (the test fails, naming the line, if not).
std::string expect_line(ChildProcess& child, const std::string& prefix);

// Writes synthetic record `sequence` of `producer_id` in place (claim, fill, commit). A claim
// padded over because this process stalled past the unblock timeout (claim_lost: a loaded
// machine can stall a process that long, in page faults or dirty-page throttling) published
// nothing, so the record is written again, as the library's contract asks.
ClaimStatus write_synthetic(Producer& producer, std::uint64_t producer_id, std::uint64_t sequence, std::size_t size);

// For the child roles: prints a report line on stdout and flushes it (the parent waits for it).
void say(const std::string& line);
// /proc/self/io read_bytes: bytes this process caused to be read from storage.
std::uint64_t disk_read_bytes();
// For a child that gives up or stalls: the head, each producer's claim and what it waits for,
// each consumer's cursor and state, so that a failure names what held it.
std::string ring_state(const Ring& ring);

// The roles of readers_box_test (reader_children.cpp): false when `role` is none of them.
bool run_reader_role(const std::string& role, int argc, char** argv, int* exit_code);

}  // namespace ringfile::test
