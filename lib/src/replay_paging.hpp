// A consumer whose next bytes are no longer in memory reads them from disk: ahead of itself, in
// large sequential requests, and it drops them once read, so that replaying history never pushes
// out what the followers need and each byte comes from disk once.
//
// "No longer in memory" is a fact the paging engine publishes: it has dropped everything below
// its release frontier (paging.hpp), and what a consumer reads there it drops again. Above the
// frontier the pages are normally resident and reading ahead costs a page-cache lookup per page,
// but it also covers pages that memory pressure evicted. The views are MADV_RANDOM (a fault never
// reads around: ahead of a producer that would read back the old lap), so without this a replay
// reads 4 KiB per fault.
#pragma once

#include <cstdint>

#include "data_view.hpp"
#include "ring_file.hpp"

namespace ringfile::detail {

class ReplayPaging {
 public:
  explicit ReplayPaging(const RingFile& file) noexcept;

  // Call once `view` maps `position` and before reading there; everything below it has been
  // handed out and returned. Nearly free except once per step (1 MiB) of progress.
  void reached(std::uint64_t position, DataView& view) noexcept {
    if (position >= next_step_ || position < previous_) [[unlikely]] step(position, view);
  }
  // Below the release frontier at the last step: reading from disk.
  bool replaying() const noexcept { return replaying_; }

 private:
  void step(std::uint64_t position, DataView& view) noexcept;
  void drop_read_until(std::uint64_t end, DataView& view) noexcept;

  const RingFile& file_;
  bool engine_runs_;
  std::uint64_t read_ahead_bytes_;
  std::uint64_t next_step_ = 0;
  std::uint64_t previous_ = 0;          // the position of the last step
  std::uint64_t read_ahead_until_ = 0;  // positions below this have been asked for
  std::uint64_t dropped_until_ = 0;     // positions below this have been dropped again
  bool replaying_ = false;
};

}  // namespace ringfile::detail
