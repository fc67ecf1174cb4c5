// After a kind's laps (--replay): the rings' history read back in the same box with none of it in
// memory (fsync, then POSIX_FADV_DONTNEED), first replayed from the oldest record by the kind's
// own reader, then each ring file read front to back in 1 MiB requests, as `dd bs=1M` reads it:
// what the disk gives a plain sequential reader, the figure a replay is measured against.
#pragma once

#include <optional>
#include <vector>

#include "ringfile/system/file_descriptor.hpp"
#include "wrap/box.hpp"
#include "wrap/kind_run.hpp"
#include "wrap/writers.hpp"

namespace ringfile::bench::wrap {

// One replaying child per ring, all at once. nullopt: the kind has no reader for history.
// @pre no writer or reader of the rings runs; called from the parent (in the box).
std::optional<HistoryResult> replay_history(const WriterKind& kind,
                                            const std::vector<RingSetup>& setups,
                                            const std::vector<system::FileDescriptor>& ring_files,
                                            const Box& box);

// One child per ring file, all at once, each reading its file with 1 MiB pread() calls.
HistoryResult read_files_sequentially(const std::vector<RingSetup>& setups,
                                      const std::vector<system::FileDescriptor>& ring_files,
                                      const Box& box);

}  // namespace ringfile::bench::wrap
