// Crash images of a ring: the file as a crash leaves it, and a reader that reads one to its end.
//
// A process crash leaves the page cache as it was at that instant. A crash of the machine
// leaves each page as it was when the kernel last wrote it back: a mix of older and newer
// content, where nothing is older than the last fdatasync.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ringfile/consumer.hpp"

namespace ringfile::program_test {

using FileBytes = std::vector<char>;

FileBytes read_bytes(const std::filesystem::path& path);
void write_bytes(const std::filesystem::path& path, const FileBytes& bytes);

// Each 4 KiB page of `newest` where `older` differs is replaced by older's with probability
// one half (pages in the header segment too).
FileBytes mix_pages(const FileBytes& newest, const FileBytes& older, std::mt19937_64& random);

// After a reboot no process of the old boot is alive: every slot's owner becomes a pid that no
// process has.
void forget_owners(const std::filesystem::path& ring);

// Overwrites `bytes` at `offset` of consumer slot `slot` of the ring's header, as a damaged
// header or a crash of the machine would have them.
void damage_consumer_slot(const std::filesystem::path& ring, std::uint64_t slot, std::size_t offset,
                          std::string_view bytes);

// One reader's view of an image read to its end.
struct ImageRead {
  std::optional<std::string> attach_error;  // Consumer::attach refused, with this message
  std::map<std::uint64_t, std::vector<std::uint64_t>> sequences;  // per producer id, in order
  std::uint64_t records = 0;
  std::uint64_t corrupt_payloads = 0;   // handed out but not synthetic-intact: must stay 0
  std::uint64_t damage_reports = 0;     // polls that returned corrupt (and then skipped)
  std::uint64_t lost_bytes = 0;
  std::uint64_t lost_records = 0;
  std::uint64_t missing = 0;            // gaps in a producer's sequence the reader saw
};

// Attaches to the image with `options` and polls until it is at the head, polling on past
// damage. Fails the test if that takes longer than `limit` (a hang).
ImageRead read_image(const std::filesystem::path& ring, const ConsumerOptions& options,
                     std::chrono::seconds limit = std::chrono::seconds(60));

}  // namespace ringfile::program_test
