// The bodies of the processes forked for one kind: a writer per ring and, with --readers, a
// reader per ring. Each waits at the start gate, runs, reports into SharedRunState and _exits.
#pragma once

#include <cstddef>
#include <cstdint>

#include "wrap/shared_run_state.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

// Exit codes the parent turns into messages (the detail is in the report's error text).
inline constexpr int kChildSetupFailed = 2;
inline constexpr int kChildRunFailed = 3;

// @pre called in a freshly forked child; never returns.
[[noreturn]] void run_writer_process(const WriterKind& kind, const RingSetup& setup,
                                     std::uint64_t laps, SharedRunState& state,
                                     std::size_t ring_index);

// @pre called in a freshly forked child; never returns.
[[noreturn]] void run_reader_process(const WriterKind& kind, const RingSetup& setup,
                                     SharedRunState& state, std::size_t ring_index);

}  // namespace ringfile::bench::wrap
