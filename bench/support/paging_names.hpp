// What the benchmark reports call a paging strategy: the enumerator's own name, as the library's
// documentation and ringfile::PagingStrategy spell it.
#pragma once

#include "ringfile/options.hpp"

namespace ringfile::bench {

inline const char* paging_strategy_name(PagingStrategy strategy) noexcept {
  switch (strategy) {
    case PagingStrategy::automatic: return "automatic";
    case PagingStrategy::zero_range: return "zero_range";
    case PagingStrategy::punch_hole: return "punch_hole";
    case PagingStrategy::prefetch_only: return "prefetch_only";
    case PagingStrategy::none: return "none";
  }
  return "?";
}

}  // namespace ringfile::bench
