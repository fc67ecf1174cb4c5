// What the bridge's tests share: the programs, rings, a verifying read of a ring, and the knobs.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/nats_cluster.hpp"
#include "support/program.hpp"
#include "support/work_dir.hpp"

namespace ringfile::bridge_test {

inline const std::string kBridge = RINGFILE_BRIDGE_BINARY;

// Starts a test's body only where nats-server is installed; elsewhere says so and returns.
#define RINGFILE_REQUIRE_NATS_SERVER(server)                                                     \
  const std::optional<std::string> server = ::ringfile::bridge_test::find_nats_server();        \
  if (!server) {                                                                                 \
    MESSAGE("skipped: nats-server is not installed (apt-get install nats-server)");             \
    return;                                                                                      \
  }

// Creates a ring with ringfile-producer (--create --count 0) and the given options.
void create_ring(const program_test::WorkDir& dir, const std::string& ring, const std::vector<std::string>& options);

// `ringfile-consumer RING --from earliest --verify --until-idle 500ms --json`, parsed.
struct Verification {
  bool ok = false;
  std::uint64_t records = 0;
  std::uint64_t producers = 0;
  std::uint64_t missing = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t corrupt = 0;
};
Verification verify_ring(const program_test::WorkDir& dir, const std::string& ring);

// The number of times to do something in a test: `default_count`, or the environment variable
// `variable` when set, times ten under RINGFILE_LONG_TESTS=1.
unsigned repetitions(const char* variable, unsigned default_count);

bool contains(const std::string& text, const std::string& part);

}  // namespace ringfile::bridge_test
