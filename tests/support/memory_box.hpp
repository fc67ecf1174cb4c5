// A memory cgroup smaller than a ring (ringfile::system::MemoryCgroup), for tests that reproduce
// a ring larger than RAM. Needs root and a memory cgroup controller; tests skip otherwise.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "ringfile/system/cgroups.hpp"

namespace ringfile::test {

using MemoryBox = system::MemoryCgroup;

// nullopt, with `why_not` filled, when the machine cannot make one.
inline std::optional<MemoryBox> make_memory_box(std::uint64_t limit_bytes, std::string* why_not) {
  return MemoryBox::create("ringfile-test-" + std::to_string(::getpid()), limit_bytes, why_not);
}

// Points the library's ring registry (RINGFILE_REGISTRY_DIR) at `directory` while it lives, and
// so the child processes started meanwhile: rings that other tests open on the machine at the
// same time then neither shrink nor, when they close, grow the budget a boxed test measures.
class PrivateRingRegistry {
 public:
  explicit PrivateRingRegistry(const std::filesystem::path& directory) {
    ::setenv("RINGFILE_REGISTRY_DIR", directory.c_str(), 1);
  }
  ~PrivateRingRegistry() { ::unsetenv("RINGFILE_REGISTRY_DIR"); }
  PrivateRingRegistry(const PrivateRingRegistry&) = delete;
  PrivateRingRegistry& operator=(const PrivateRingRegistry&) = delete;
};

}  // namespace ringfile::test
