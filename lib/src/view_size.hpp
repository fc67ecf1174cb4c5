// How large a process's sliding views of the data area are (OpenOptions::view_bytes): chosen
// when the ring is opened, from what was asked, the ring and, where the paging engine works on
// it, the memory the ring may hold, since the engine's fixed parts are measured in views.
#pragma once

#include <cstdint>

#include "ringfile/options.hpp"

namespace ringfile::detail {

// The default view of a ring the paging engine works on, given the ring's budget (0: unknown):
// 8 MiB, halved down to 64 KiB until it is at most an eighth of the budget.
std::uint64_t view_bytes_for_budget(std::uint64_t budget_bytes) noexcept;

// The view for OpenOptions::view_bytes = `requested` (0: the default) on a ring of `capacity`
// bytes, raised to a power of two of at least 64 KiB. `budget_override` is
// OpenOptions::resident_budget_bytes (0: a share of the memory, as the engine takes it).
std::uint64_t choose_view_bytes(std::uint64_t requested, std::uint64_t capacity, bool memory_backed,
                                PagingStrategy paging, std::uint64_t budget_override);

}  // namespace ringfile::detail
