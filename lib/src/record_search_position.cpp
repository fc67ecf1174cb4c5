// Resolving Seek::Kind::position (see record_search.hpp): a record boundary as given, or the first
// one after a position inside a record, found by reading the frames from a boundary before it so
// that damaged bytes in the way are seen and named rather than stepped over.
#include <algorithm>
#include <string>

#include "frames.hpp"
#include "paging.hpp"
#include "record_search.hpp"
#include "ringfile/error.hpp"

namespace ringfile::detail {

namespace {

std::string describe(const RingFile& file) { return "'" + file.info().path.string() + "'"; }

// How far back from a position inside a record the search for its frame looks first.
constexpr std::uint64_t kFirstReachBack = 4096;

constexpr const char* kUnclaimedHole = "uncommitted bytes below the head that no producer claims";

}  // namespace

std::uint64_t RecordSearch::resolve_position(std::uint64_t wanted, bool next_boundary) {
  const Geometry& geometry = file_.geometry();
  const std::uint64_t head_now = head();
  const std::uint64_t oldest_kept = oldest_kept_position(file_);
  if (wanted > head_now || wanted < oldest_kept) {
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + ": position " + std::to_string(wanted) + " is outside the data still in the ring [" +
                    std::to_string(oldest_kept) + ", " + std::to_string(head_now) + "]");
  }
  if (wanted == head_now) return wanted;
  if (wanted % format::kFrameAlignment == 0) {
    if (geometry.offset_of(wanted) == 0) return wanted;  // every lap starts with a frame
    std::byte* frame = view_.at(geometry.offset_of(wanted), header_bytes_at(wanted, geometry));
    const FrameRead read = frame != nullptr ? read_frame(frame, wanted, geometry) : FrameRead{};
    // An open claim at the position is a boundary too: the frame there will be committed.
    if (read.kind == FrameKind::data || read.kind == FrameKind::padding ||
        (read.kind == FrameKind::uncommitted && claim_end_covering(wanted))) {
      return wanted;
    }
    // A record inside a group frame (its position as a consumer reports it).
    if (locate_group_entry(view_, wanted, geometry)) return wanted;
  }
  const std::optional<Landing> next = walk_to_boundary(wanted, head_now, oldest_kept);
  // Producers may have overwritten `wanted` since the range check: what was read there is then
  // another lap's bytes, which say nothing of the position (they read as the middle of a record,
  // or as damage). Found by a tester: a seek to the oldest record, racing producers, was told it
  // lay inside a record.
  if (!next || overwritten(file_, wanted) || overwritten(file_, next->position)) {
    const std::uint64_t now_kept = oldest_kept_position(file_);
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + ": position " + std::to_string(wanted) +
                    " was overwritten while looking for the record boundary at or after it; choose a later "
                    "position (the oldest data still in the ring now starts at " +
                    std::to_string(std::max(now_kept, oldest_kept)) + ")");
  }
  if (next->problem != nullptr) {
    // The same words as a consumer's poll uses for damage, and where reading on past it starts.
    throw Error(ErrorCode::corrupt,
                describe(file_) + ": corrupt record at position " + std::to_string(next->position) + ": " +
                    next->problem + "; the file is damaged, and the record boundary at or after position " +
                    std::to_string(wanted) + " lies in or after the damage (restore the file, or start at " +
                    std::to_string(boundary_from(next->resume_at, head_now)) + ", the first boundary after it)");
  }
  if (next_boundary) return next->position;
  throw Error(ErrorCode::invalid_argument,
              describe(file_) + ": position " + std::to_string(wanted) +
                  " is inside a record, not at its start; the next record starts at " + std::to_string(next->position) +
                  " (start there, or ask for the next boundary: Seek::to_position(position, true), --next-boundary)");
}

std::optional<RecordSearch::Landing> RecordSearch::walk_to_boundary(std::uint64_t wanted, std::uint64_t head,
                                                                    std::uint64_t oldest_kept) noexcept {
  const Geometry& geometry = file_.geometry();
  // The frame holding `wanted` starts at most a maximum frame before it, in its own lap (a frame
  // never crosses a lap's end), and not below what is still in the ring. A scan from `wanted`
  // itself would take the first frame that looks right after it, past any damage before that.
  // The search looks back a little first, then twice as far, so that it reads about as many
  // frames as the record holding `wanted` is long, not a maximum record's worth.
  const std::uint64_t lap_start = geometry.lap_end(wanted) - geometry.capacity;
  const std::uint64_t kept = format::align_up(oldest_kept, format::kFrameAlignment);
  const std::uint64_t floor = std::max(lap_start, kept);
  std::optional<std::uint64_t> start;
  for (std::uint64_t reach = kFirstReachBack;; reach *= 2) {
    const std::uint64_t from = wanted > floor + reach ? format::align_up(wanted - reach, format::kFrameAlignment) : floor;
    start = find_boundary(view_, from, head, geometry, file_.header().producers);
    if (start && *start <= wanted) break;
    if (from > floor && reach < geometry.max_frame_stride) continue;
    if (!start && overwritten(file_, from)) return std::nullopt;
    // No frame before it can be found. Its frame may lie below what is kept (then what follows
    // it is all the ring holds) or be an open claim's (committed later, not damage): the first
    // boundary after it, as found from there. Otherwise the bytes there cannot be a frame.
    const bool frame_may_be_gone = from == kept && kept > lap_start;
    if (start && (frame_may_be_gone || claim_end_covering(wanted))) return Landing{boundary_from(wanted, head)};
    return Landing{wanted, "no frame holds the position (no record boundary within a maximum record before it)",
                   wanted + format::kFrameAlignment};
  }
  std::uint64_t position = *start;
  bool reread = false;
  while (position < wanted) {
    const LaidFrame laid = read_frame_in_lap(position);
    if (laid.frame == nullptr) return std::nullopt;
    const FrameRead& read = laid.read;
    switch (read.kind) {
      case FrameKind::padding:
        position += read.stride;
        break;
      case FrameKind::data:
        if (read.group && position + read.stride > wanted) {
          // The group holds `wanted`: its first record at or after it, unless an entry before
          // that is damaged (a consumer cannot start inside the group past it).
          const std::byte* group = view_.at(geometry.offset_of(position), read.stride);
          if (group == nullptr) return std::nullopt;
          for (std::uint64_t offset = format::kRecordHeaderBytes; offset < read.frame_length;) {
            const GroupEntry entry = read_group_entry(group, read.frame_length, offset);
            acquire_fence();  // the entry's loads complete before the frontier is read
            if (overwritten(file_, position)) return std::nullopt;
            if (entry.problem != nullptr) return Landing{position + offset, entry.problem, position + read.stride};
            if (position + offset >= wanted) return Landing{position + offset};
            offset = entry.next_offset;
          }
        }
        position += read.stride;
        break;
      case FrameKind::uncommitted:
        // An open claim's record commits later: the boundary is past the claim. Read once more
        // when no claim covers it: its producer may have committed since.
        if (const auto claim_end = claim_end_covering(position)) {
          position = *claim_end;
        } else if (!reread) {
          reread = true;
          continue;
        } else {
          return Landing{position, kUnclaimedHole, position + format::kFrameAlignment};
        }
        break;
      case FrameKind::corrupt:
        return Landing{position, read.problem, position + format::kFrameAlignment};
    }
    reread = false;
  }
  return Landing{std::min(position, head)};
}

std::uint64_t RecordSearch::boundary_from(std::uint64_t from, std::uint64_t end) noexcept {
  const Geometry& geometry = file_.geometry();
  // Past damage as a consumer skipping it goes (ConsumerCore::skip_damage): find_boundary scans
  // twice a maximum frame; a longer stretch of damaged bytes takes more scans, up to the head.
  for (;;) {
    if (const auto boundary = find_boundary(view_, from, end, geometry, file_.header().producers)) return *boundary;
    from += 2 * geometry.max_frame_stride;
  }
}

}  // namespace ringfile::detail
