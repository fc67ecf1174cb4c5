// Writes the seed corpus of the fuzz targets (tests/fuzz/seeds): real rings of the smallest
// capacity in the states users' rings are found in, each encoded as fuzzer input.
//   ringfile_fuzz_seeds OUTPUT_DIR [WORK_DIR]
// WORK_DIR (default: the temporary directory) must be on a filesystem with fallocate's
// zero-range and punch-hole (ext4, xfs) for the seeds of those paging strategies.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fuzz_ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/error.hpp"
#include "ringfile/producer.hpp"

using namespace ringfile;

namespace {

constexpr std::uint64_t kCapacity = 64 * kKiB;

// Text payloads of varying size: compressible, so the corpus stays small in the repository.
std::string payload(std::uint64_t sequence, std::size_t max_bytes) {
  std::string text = "record " + std::to_string(sequence) + " ";
  const std::size_t size = 8 + (sequence * 7919) % (max_bytes - 8);
  while (text.size() < size) text += "abcdefghijklmnopqrstuvwxyz";
  text.resize(size);
  return text;
}

void write_records(Producer& producer, std::uint64_t count, std::size_t max_bytes) {
  for (std::uint64_t sequence = 0; sequence < count; ++sequence) {
    const std::string text = payload(sequence, max_bytes);
    if (producer.write({reinterpret_cast<const std::byte*>(text.data()), text.size()}) != ClaimStatus::ok) {
      throw std::runtime_error("write failed");
    }
  }
}

std::uint64_t records_per_lap(std::size_t max_bytes) { return kCapacity / (40 + max_bytes / 2); }

void drain(Consumer& consumer, std::size_t limit = static_cast<std::size_t>(-1)) {
  std::size_t seen = 0;
  while (seen < limit) {
    const PollResult polled = consumer.poll([](const Record&) {}, std::min<std::size_t>(256, limit - seen));
    if (polled.records == 0) break;
    seen += polled.records;
  }
}

CreateOptions options(WriterPolicy policy, PagingStrategy paging = PagingStrategy::none,
                      std::uint32_t max_record = 1024) {
  return {.capacity_bytes = kCapacity, .policy = policy, .max_record_bytes = max_record, .paging = paging};
}

struct Seed {
  std::string name;
  std::function<void(const std::filesystem::path&)> make;  // leaves the ring as it should be seen
};

std::vector<Seed> seeds() {
  return {
      {"empty", [](const auto& path) { Ring::create(path, options(WriterPolicy::block)); }},
      {"named-consumers",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::block));
         Consumer billing = Consumer::attach(ring, {.name = "billing"});
         Consumer audit = Consumer::attach(ring, {.name = "audit", .auto_commit = false});
         Consumer anonymous = Consumer::attach(ring, {});
         Producer producer(ring);
         write_records(producer, 60, 400);
         drain(billing, 20);
         billing.detach();
         drain(audit, 35);
         audit.commit();
         drain(anonymous);
         // The file is copied while `audit` and the anonymous consumer are attached.
         std::filesystem::copy_file(path, path.string() + ".snapshot");
       }},
      {"wrapped-block",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::block));
         Consumer follower = Consumer::attach(ring, {.name = "follower"});
         Producer producer(ring);
         for (int lap = 0; lap < 5; ++lap) {
           write_records(producer, records_per_lap(1024) / 2, 1024);
           drain(follower);
         }
       }},
      {"write-batch-groups",
       [](const auto& path) {
         // Group frames (format 3) over more than a lap, a named consumer whose cursor stands
         // inside a group, and one reading along.
         Ring ring = Ring::create(path, options(WriterPolicy::block));
         Consumer inside = Consumer::attach(ring, {.name = "inside"});
         Consumer follower = Consumer::attach(ring, {.name = "follower"});
         Producer producer(ring);
         std::vector<std::string> texts;
         for (std::uint64_t sequence = 0; sequence < 40; ++sequence) texts.push_back(payload(sequence, 300));
         std::vector<std::span<const std::byte>> batch;
         for (const std::string& text : texts) batch.push_back({reinterpret_cast<const std::byte*>(text.data()), text.size()});
         for (int round = 0; round < 12; ++round) {
           if (producer.write_batch(batch).records != batch.size()) throw std::runtime_error("write_batch failed");
           drain(follower);
           if (round < 10) drain(inside);
           if (round == 10) {
             drain(inside, batch.size() - 7);  // stops seven records before the batch's end, inside a group
             inside.detach();
           }
         }
       }},
      {"empty-records",
       [](const auto& path) {
         // Records with no payload, alone and in a group, first in the ring: a tap's first copy.
         Ring ring = Ring::create(path, options(WriterPolicy::block));
         Producer producer(ring);
         const std::string text = payload(1, 100);
         const std::span<const std::byte> some{reinterpret_cast<const std::byte*>(text.data()), text.size()};
         const std::array<std::span<const std::byte>, 3> batch{std::span<const std::byte>{}, some,
                                                               std::span<const std::byte>{}};
         for (int round = 0; round < 3; ++round) {
           if (producer.write({}) != ClaimStatus::ok || producer.write(some) != ClaimStatus::ok ||
               producer.write_batch(batch).records != batch.size()) {
             throw std::runtime_error("writing empty records failed");
           }
         }
       }},
      {"wrapped-largest-records",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::overwrite, PagingStrategy::none, 16 * 1024 - 40));
         Producer producer(ring);
         write_records(producer, 13, 16 * 1024 - 40);
       }},
      {"overwrite-lapped-tap",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::overwrite));
         Consumer tap = Consumer::attach(ring, {.name = "tap", .holds_back = false});
         Producer producer(ring);
         write_records(producer, 20, 1024);
         drain(tap, 10);
         write_records(producer, 3 * records_per_lap(1024), 1024);
         drain(tap, 5);  // skips ahead, counting what it lost
         write_records(producer, records_per_lap(1024) * 3 / 2, 1024);  // and is lapped again
       }},
      {"paging-zero-range",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::block, PagingStrategy::zero_range));
         Consumer follower = Consumer::attach(ring, {.name = "follower"});
         Producer producer(ring);
         for (int lap = 0; lap < 3; ++lap) {
           write_records(producer, records_per_lap(1024) / 2, 1024);
           drain(follower);
         }
       }},
      {"paging-punch-hole",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::overwrite, PagingStrategy::punch_hole));
         Consumer reader = Consumer::attach(ring, {.name = "reader"});
         Producer producer(ring);
         write_records(producer, 3 * records_per_lap(1024), 1024);
         drain(reader);
       }},
      {"paging-prefetch",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::block, PagingStrategy::prefetch_only));
         Consumer follower = Consumer::attach(ring, {});
         Producer producer(ring);
         for (int lap = 0; lap < 3; ++lap) {
           write_records(producer, records_per_lap(1024) / 2, 1024);
           drain(follower);
         }
       }},
      {"dead-producer-claim",
       [](const auto& path) {
         Ring ring = Ring::create(path, options(WriterPolicy::block));
         {
           Producer before(ring);
           write_records(before, 10, 300);
         }
         // A child process claims a record and dies without committing it.
         const pid_t child = ::fork();
         if (child == 0) {
           Ring child_ring = Ring::open(path);
           Producer doomed(child_ring);
           if (!doomed.claim(200, std::chrono::seconds(5))) ::_exit(1);
           ::_exit(0);
         }
         int status = 0;
         ::waitpid(child, &status, 0);
         Producer after(ring);
         write_records(after, 10, 300);
       }},
  };
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream file(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR [WORK_DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path output = argv[1];
  const std::filesystem::path work =
      (argc == 3 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path()) /
      ("ringfile-seeds-" + std::to_string(::getpid()));
  std::filesystem::create_directories(output);
  std::filesystem::create_directories(work);
  int exit_code = 0;
  for (const Seed& seed : seeds()) {
    const std::filesystem::path ring = work / seed.name;
    try {
      seed.make(ring);
      const std::filesystem::path snapshot = ring.string() + ".snapshot";
      const auto file = read_bytes(std::filesystem::exists(snapshot) ? snapshot : ring);
      const auto input = fuzz::encode_ring_file(file);
      std::ofstream(output / seed.name, std::ios::binary)
          .write(reinterpret_cast<const char*>(input.data()), static_cast<std::streamsize>(input.size()));
      std::printf("%-24s %7zu bytes (paging %s)\n", seed.name.c_str(), input.size(),
                  Ring::open(ring).info().paging == PagingStrategy::none ? "none" : "engine");
    } catch (const std::exception& error) {
      std::fprintf(stderr, "%s: %s\n", seed.name.c_str(), error.what());
      exit_code = 1;
    }
  }
  std::filesystem::remove_all(work);
  return exit_code;
}
