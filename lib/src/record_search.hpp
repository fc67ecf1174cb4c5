// Finding places in the data area without reading it from end to end (see ringfile/seek.hpp and
// docs/seeking.md): a time by binary search over positions, the N-th last record by stepping back
// about N records and counting forward, the record boundary at or after any position, and the
// oldest record still intact.
//
// Producers may overwrite the oldest bytes while a search reads them (overwrite policy, or
// consumers that do not hold producers back). Every frame read is checked afterwards against the
// frontier of what may have been overwritten (reclaimed_frontier); a probe that lost that race
// counts as "older than anything still in the ring", so the search moves on towards the head.
//
// Damaged bytes (a crash of the machine, or a file changed behind the library's back) are never
// stepped over silently when intact records that the seek asked for may lie beside them: the
// searches land on the damage, where a consumer's poll reports it as it does when reading from
// the oldest record, or (a position) refuse with Error(corrupt) naming it. See docs/seeking.md.
#pragma once

#include <cstdint>
#include <optional>

#include "data_view.hpp"
#include "frames.hpp"
#include "ring_file.hpp"
#include "ringfile/seek.hpp"

namespace ringfile::detail {

// True when producers or the paging engine may have changed the bytes at `position` since it
// was written: it is more than a lap behind the furthest of the head and the preparation frontier.
bool overwritten(const RingFile& file, std::uint64_t position) noexcept;

// The first record boundary at least `margin` past the oldest byte still intact. Producers and
// the paging engine may move that frontier while we scan; then the scan finds only overwritten
// bytes, and we look again from where the frontier has got to. nullopt when that keeps
// happening (producers overwrite faster than we scan).
std::optional<std::uint64_t> find_oldest_intact_boundary(const RingFile& file, DataView& view,
                                                         std::uint64_t margin) noexcept;
// The same, or the head when producers overwrite faster than we scan.
std::uint64_t oldest_intact_boundary(const RingFile& file, DataView& view, std::uint64_t margin) noexcept;

// @pre one thread at a time per RecordSearch (it reads through `view`, which slides).
class RecordSearch {
 public:
  RecordSearch(const RingFile& file, DataView& view) noexcept : file_(file), view_(view) {}

  // Where `seek` points now: a record boundary between the oldest intact record and the head.
  // Throws Error(invalid_argument) for a position outside that range or inside a record (unless
  // seek.next_boundary), naming the range or the next boundary; Error(corrupt) for a position
  // whose next boundary cannot be known because damaged bytes lie in the way, naming them.
  std::uint64_t resolve(const Seek& seek);

  // The first record committed at or after `time_ns` (CLOCK_REALTIME), or the head; or damaged
  // bytes between the last record older than that and the first record found at or after it.
  std::uint64_t first_at_or_after(std::uint64_t time_ns) noexcept;
  // The `count`-th last record before the head; the oldest intact one when there are fewer; the
  // last damaged bytes when fewer than `count` intact records follow them (a group frame's start
  // for a damaged entry of it: a consumer cannot start at the entry).
  std::uint64_t last_records(std::uint64_t count) noexcept;

  // The work done so far, for tests that check it grows with log(capacity), not with the ring.
  struct Cost {
    std::uint64_t probes = 0;  // binary search steps
    std::uint64_t frames = 0;  // frame headers read
    std::uint64_t scanned_bytes = 0;  // bytes probes searched for a boundary in (find_boundary)
  };
  const Cost& cost() const noexcept { return cost_; }

 private:
  // What a binary-search probe found: the first data record at or after a boundary.
  struct Probe {
    enum class Kind { record, end, gone, unreadable } kind = Kind::end;
    std::uint64_t position = 0;
    std::uint64_t time_ns = 0;
  };
  struct Walk {
    std::uint64_t records = 0;   // data records passed
    std::uint64_t position = 0;  // where the walk stopped
    // Stopped at damaged bytes: `position` is where a consumer starts to be told of them (the
    // damaged frame, or the group frame holding a damaged entry), `resume_at` where a consumer
    // that skips them looks for the next boundary.
    bool damaged = false;
    std::uint64_t resume_at = 0;
  };
  // The intact records after the last damage between a boundary and the head.
  struct Tally {
    std::uint64_t records = 0;
    std::uint64_t counted_from = 0;      // the boundary after the last damage, or the start
    std::optional<std::uint64_t> damage;  // where the last damage is (Walk::position)
  };
  // The first record boundary at or after a position, or the damage in the way.
  struct Landing {
    std::uint64_t position = 0;
    const char* problem = nullptr;  // damaged bytes at `position`
    std::uint64_t resume_at = 0;    // with a problem: where a consumer skipping it would look on
  };

  std::uint64_t resolve_position(std::uint64_t wanted, bool next_boundary);
  std::optional<Landing> walk_to_boundary(std::uint64_t wanted, std::uint64_t head, std::uint64_t oldest_kept) noexcept;
  std::uint64_t boundary_from(std::uint64_t from, std::uint64_t end) noexcept;
  std::uint64_t oldest_boundary() noexcept;
  Probe probe(std::uint64_t from, std::uint64_t end) noexcept;
  // The frame at `position` as read while its bytes were still this lap's: `frame` null when no
  // view could be mapped or (`overwritten`) the paging engine reclaimed them meanwhile; a data
  // record's commit time in `time_ns` (kNeverCommitted for any other kind: an open claim commits
  // later than anything committed now).
  static constexpr std::uint64_t kNeverCommitted = ~std::uint64_t{0};
  struct LaidFrame {
    std::byte* frame = nullptr;
    FrameRead read;
    std::uint64_t time_ns = kNeverCommitted;
    bool overwritten = false;
  };
  LaidFrame read_frame_in_lap(std::uint64_t position) noexcept;
  std::uint64_t first_unskipped(std::uint64_t from, std::uint64_t answer, std::uint64_t time_ns) noexcept;
  std::optional<Walk> walk(std::uint64_t from, std::uint64_t end, std::uint64_t stop_at_record) noexcept;
  std::optional<Tally> tally(std::uint64_t from, std::uint64_t end) noexcept;
  std::optional<std::uint64_t> claim_end_covering(std::uint64_t position) const noexcept;
  double average_frame_bytes() const noexcept;
  std::uint64_t head() const noexcept;

  // A stretch of damaged bytes a probe scanned across: no boundary starts in [start, resume_at),
  // and resume_at is the first after it. A later probe from inside it starts at resume_at, so that
  // a long stretch (a crash that left garbage) is scanned once, not by each of the search's
  // probes that land in it.
  struct DamagedStretch {
    std::uint64_t start = 0;
    std::uint64_t resume_at = 0;
  };
  static constexpr std::size_t kKeptStretches = 4;
  // Where a probe from `from` may start: past a known damaged stretch that holds it.
  std::uint64_t past_known_damage(std::uint64_t from) const noexcept;
  void remember_damage(std::uint64_t start, std::uint64_t resume_at) noexcept;

  const RingFile& file_;
  DataView& view_;
  Cost cost_;
  DamagedStretch stretches_[kKeptStretches];  // the latest ones, oldest overwritten first
  std::size_t next_stretch_ = 0;
};

}  // namespace ringfile::detail
