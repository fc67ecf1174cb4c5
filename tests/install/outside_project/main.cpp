// Uses an installed ringfile: creates a ring, writes three records, reads them back, checks them.
// Prints "ringfile VERSION: 3 records round trip" and exits 0, or says what went wrong and exits 1.
#include <ringfile/consumer.hpp>
#include <ringfile/error.hpp>
#include <ringfile/producer.hpp>
#include <ringfile/version.hpp>

#include <cstdio>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s RING\n", argv[0]);
    return 2;
  }
  try {
    auto ring = ringfile::Ring::create(argv[1], {.capacity_bytes = 1 << 20});
    ringfile::Producer producer(ring);
    auto consumer = ringfile::Consumer::attach(ring, {.start = ringfile::StartFrom::earliest});
    const std::vector<std::string> sent{"one", "two", "three"};
    for (const std::string& text : sent) {
      if (producer.write({reinterpret_cast<const std::byte*>(text.data()), text.size()}) != ringfile::ClaimStatus::ok) {
        std::fprintf(stderr, "write failed\n");
        return 1;
      }
    }
    std::vector<std::string> received;
    consumer.poll([&](const ringfile::Record& record) {
      received.emplace_back(reinterpret_cast<const char*>(record.payload.data()), record.payload.size());
    });
    if (received != sent) {
      std::fprintf(stderr, "read back %zu records, not the 3 written\n", received.size());
      return 1;
    }
    std::printf("ringfile %s: %zu records round trip\n", ringfile::kVersion, received.size());
    return 0;
  } catch (const ringfile::Error& error) {
    std::fprintf(stderr, "%s\n", error.what());
    return 1;
  }
}
