#include "ringfile/programs/existing_ring.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "ringfile/programs/program.hpp"
#include "ringfile/programs/units.hpp"

namespace ringfile::programs {
namespace {

// Where a filesystem lacks a strategy, creation falls back along zero-range, punch-hole,
// prefetch (and stores what it chose), so a ring created with --paging zero-range may hold
// punch-hole. What is stored is taken as what was asked if it is the asked strategy or one it
// falls back to: the same command run again must find its own ring acceptable. "automatic" asks
// for whatever suits the ring and its filesystem, which anything stored is.
bool paging_satisfies(PagingStrategy stored, PagingStrategy asked) {
  if (asked == PagingStrategy::automatic || stored == asked) return true;
  const auto fallback_rank = [](PagingStrategy paging) {
    switch (paging) {
      case PagingStrategy::zero_range: return 0;
      case PagingStrategy::punch_hole: return 1;
      case PagingStrategy::prefetch_only: return 2;
      case PagingStrategy::automatic:
      case PagingStrategy::none: break;
    }
    return -1;  // none is never a fallback, and falls back to nothing
  };
  const int stored_rank = fallback_rank(stored);
  const int asked_rank = fallback_rank(asked);
  return asked_rank >= 0 && stored_rank > asked_rank;
}

std::string octal_mode(unsigned mode) {
  char text[16];
  std::snprintf(text, sizeof text, "%04o", mode);
  return text;
}

}  // namespace

const char* policy_name(WriterPolicy policy) noexcept {
  return policy == WriterPolicy::block ? "block" : "overwrite";
}

const char* paging_name(PagingStrategy paging) noexcept {
  switch (paging) {
    case PagingStrategy::automatic: return "automatic";
    case PagingStrategy::zero_range: return "zero-range";
    case PagingStrategy::punch_hole: return "punch-hole";
    case PagingStrategy::prefetch_only: return "prefetch";
    case PagingStrategy::none: break;
  }
  return "none";
}

std::vector<std::string> ring_differences(const RingInfo& info, const AskedRingParameters& asked) {
  std::vector<std::string> found;
  const auto differ = [&](const std::string& what, const std::string& existing, const std::string& wanted) {
    found.push_back(what + " " + existing + " (asked " + wanted + ")");
  };
  if (info.capacity_bytes != asked.size_bytes) {
    differ("size", format_bytes_beside(info.capacity_bytes, asked.size_bytes),
           format_bytes_beside(asked.size_bytes, info.capacity_bytes));
  }
  if (asked.policy && info.policy != *asked.policy) differ("policy", policy_name(info.policy), policy_name(*asked.policy));
  if (asked.max_record_bytes && info.max_record_bytes != *asked.max_record_bytes) {
    differ("max record", format_bytes_beside(info.max_record_bytes, *asked.max_record_bytes),
           format_bytes_beside(*asked.max_record_bytes, info.max_record_bytes));
  }
  if (asked.paging && !paging_satisfies(info.paging, *asked.paging)) {
    differ("paging", paging_name(info.paging), paging_name(*asked.paging));
  }
  if (asked.hold_window_bytes) {
    // From the capacity up is the whole ring, stored as the capacity.
    const std::uint64_t wanted = std::min(*asked.hold_window_bytes, info.capacity_bytes);
    const auto describe = [&](std::uint64_t window, std::uint64_t other) {
      return window == 0 ? std::string("auto")
             : window >= info.capacity_bytes ? std::string("ring")
                                             : format_bytes_beside(window, other);
    };
    if (wanted != info.hold_window_bytes) {
      differ("hold window", describe(info.hold_window_bytes, wanted), describe(wanted, info.hold_window_bytes));
    }
  }
  if (asked.consumer_grace && *asked.consumer_grace != info.consumer_grace) {
    differ("consumer grace", format_duration(info.consumer_grace), format_duration(*asked.consumer_grace));
  }
  if (asked.file_mode) {
    struct stat status {};
    if (::stat(info.path.c_str(), &status) != 0) {
      throw RuntimeFailure("cannot read the mode of '" + info.path.string() + "': " + std::strerror(errno));
    }
    const unsigned existing = static_cast<unsigned>(status.st_mode) & 07777u;
    if (existing != *asked.file_mode) differ("mode", octal_mode(existing), octal_mode(*asked.file_mode));
  }
  return found;
}

void refuse_other_parameters(const RingInfo& info, const AskedRingParameters& asked) {
  const std::vector<std::string> differing = ring_differences(info, asked);
  if (differing.empty()) return;
  std::string listed;
  for (const auto& difference : differing) listed += (listed.empty() ? "" : ", ") + difference;
  throw RuntimeFailure("'" + info.path.string() + "' already exists with other parameters: " + listed +
                       "; use the existing parameters, another path, or remove the file");
}

}  // namespace ringfile::programs
