// --create on a path where a ring already exists: the ring is used only if it has the parameters
// the command line asks for. Shared by ringfile-producer and ringfile-bridge in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/options.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::programs {

// What --create asks for. Only what the command line states is compared: an omitted option
// (nullopt) asks for nothing.
struct AskedRingParameters {
  std::uint64_t size_bytes = 0;
  std::optional<WriterPolicy> policy;
  std::optional<std::uint64_t> max_record_bytes;
  std::optional<PagingStrategy> paging;
  std::optional<std::uint64_t> hold_window_bytes;  // as CreateOptions::hold_window_bytes
  std::optional<unsigned> file_mode;               // permission bits, 0000 to 0777
  std::optional<std::chrono::milliseconds> consumer_grace;
};

// "block", "overwrite": as --policy spells them.
const char* policy_name(WriterPolicy policy) noexcept;
// "automatic", "zero-range", "punch-hole", "prefetch", "none": as --paging spells them.
const char* paging_name(PagingStrategy paging) noexcept;

// The parameters of the existing ring `info` that differ from those asked for, each as
// "size 1.0 MiB (asked 2.0 MiB)". Throws ringfile::Error if the file's mode cannot be read.
std::vector<std::string> ring_differences(const RingInfo& info, const AskedRingParameters& asked);

// Throws RuntimeFailure listing each difference, if there is one.
void refuse_other_parameters(const RingInfo& info, const AskedRingParameters& asked);

}  // namespace ringfile::programs
