// Tests of lib/system/src/shared_memory.cpp.
#include "ringfile/system/shared_memory.hpp"

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include <doctest/doctest.h>

#include "support/child_process.hpp"

namespace ringfile::system {
namespace {

// The bytes of the mapping starting at `address` that this process has in its page tables (the
// Rss line of its entry in /proc/self/smaps), or -1 when there is no such entry.
long long mapped_bytes_here(const void* address) {
  std::ifstream smaps("/proc/self/smaps");
  const auto wanted = reinterpret_cast<std::uintptr_t>(address);
  std::string line;
  bool in_entry = false;
  while (std::getline(smaps, line)) {
    unsigned long long start = 0, end = 0;
    // An entry starts with its address range; the lines after it name one figure each.
    if (std::sscanf(line.c_str(), "%llx-%llx", &start, &end) == 2) {
      in_entry = start == wanted;
      continue;
    }
    long long kib = 0;
    if (in_entry && std::sscanf(line.c_str(), "Rss: %lld kB", &kib) == 1) return kib * 1024;
  }
  return -1;
}

TEST_CASE("shared memory: a forked child fills the page tables it did not inherit") {
  constexpr std::size_t kBytes = std::size_t{1} << 20;
  const SharedMemory memory(kBytes, "the test's memory");
  // Every page allocated and mapped here (MADV_POPULATE_WRITE).
  CHECK(mapped_bytes_here(memory.data()) == static_cast<long long>(kBytes));
  const int child_status = test::run_forked([&] {
    // The kernel copies no page tables of a shared mapping at fork.
    if (mapped_bytes_here(memory.data()) != 0) ::_exit(1);
    memory.fill_page_tables();
    if (mapped_bytes_here(memory.data()) != static_cast<long long>(kBytes)) ::_exit(2);
  });
  CHECK(child_status == 0);
}

}  // namespace
}  // namespace ringfile::system
