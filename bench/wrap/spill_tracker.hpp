// What a paused reader finds spilled: the pages of its unread stretch that the page cache did not
// hold when it resumed, and those the producers' paging engine drops, still unread, after that.
// The second kind exists because a `ring` hold window lets the release frontier pass a reader
// that has fallen behind the resident budget: while the writers go on writing, the frontier moves
// on and drops pages that were cached when the reader resumed. They are spilled as surely as
// the first kind, only later; a reader that reads them back reads no more than was spilled.
#pragma once

#include <cstdint>
#include <vector>

namespace ringfile::bench::wrap {

class SpillTracker {
 public:
  // Notes which pages of the data area (`capacity` bytes at `data_offset` of the file open as
  // `fd`) the page cache holds now, for the unread stretch [cursor, head). false (and nothing
  // counted later) when the page cache cannot be asked.
  bool start(int fd, std::uint64_t data_offset, std::uint64_t capacity, std::uint64_t cursor,
             std::uint64_t head);
  // The reader has read up to `position`; the release frontier stands at `released`. Whatever
  // the frontier passed ahead of the reader was dropped before the reader got there.
  void observe(std::uint64_t position, std::uint64_t released) noexcept;
  // Bytes cached when start() ran and dropped unread since.
  std::uint64_t dropped_after_start() const noexcept { return dropped_bytes_; }

 private:
  std::vector<unsigned char> cached_at_start_;  // mincore(2) bytes, one per page of the data area
  std::uint64_t capacity_ = 0;
  std::uint64_t end_ = 0;            // the head at start(): later pages were not unread then
  std::uint64_t counted_until_ = 0;  // positions below here are counted (or were read)
  std::uint64_t dropped_bytes_ = 0;
};

}  // namespace ringfile::bench::wrap
