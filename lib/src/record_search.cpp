#include "record_search.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "atomics.hpp"
#include "frames.hpp"
#include "paging.hpp"
#include "ringfile/error.hpp"
#include "slot_tables.hpp"

namespace ringfile::detail {

namespace {

constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// A guess of a record's size when no producer has counted any yet (a ring written by producers
// that have all gone): small, so that the first step back is short and the next ones double.
constexpr double kDefaultFrameBytes = 64;

}  // namespace

bool overwritten(const RingFile& file, std::uint64_t position) noexcept {
  // Producers write only after reserving, and the paging engine invalidates only after
  // publishing its frontier (both seq_cst, read with acquire in reclaimed_frontier): while neither
  // is a lap ahead of `position`, nothing there has changed.
  return reclaimed_frontier(file) > position + file.geometry().capacity;
}

std::optional<std::uint64_t> find_oldest_intact_boundary(const RingFile& file, DataView& view,
                                                         std::uint64_t margin) noexcept {
  const Geometry& geometry = file.geometry();
  auto& header = file.header();
  // Producers and the paging engine may move the frontier while we scan; then the boundary found
  // is overwritten already, and we look again from where the frontier has got to. A stretch with
  // no boundary at all (overwritten during the scan, or damage a crash of the machine left) is
  // passed: the scan goes on after it, up to the head.
  constexpr int kAttempts = 8;
  std::uint64_t from = 0;
  for (int attempt = 0; attempt < kAttempts;) {
    // Acquire: pairs with the producers' seq_cst head CAS; the scan stops there.
    const std::uint64_t head = atomic_field(header.head_position.value).load(std::memory_order_acquire);
    const std::uint64_t frontier = reclaimed_frontier(file);
    if (frontier <= geometry.capacity && margin == 0) return 0;  // nothing overwritten yet
    const std::uint64_t oldest = frontier > geometry.capacity ? frontier - geometry.capacity : 0;
    from = std::max(from, std::min(oldest + margin, head));
    const std::optional<std::uint64_t> boundary = find_boundary(view, from, head, geometry, header.producers);
    if (!boundary) {
      from += 2 * geometry.max_frame_stride;  // what find_boundary scanned
      continue;
    }
    if (!overwritten(file, *boundary)) return *boundary;
    ++attempt;
  }
  return std::nullopt;
}

std::uint64_t oldest_intact_boundary(const RingFile& file, DataView& view, std::uint64_t margin) noexcept {
  if (const auto boundary = find_oldest_intact_boundary(file, view, margin)) return *boundary;
  // Overwritten faster than we can scan: the head itself is a boundary.
  return atomic_field(file.header().head_position.value).load(std::memory_order_acquire);
}

std::uint64_t RecordSearch::oldest_boundary() noexcept {
  // Exactly the oldest record where nothing overwrites it while we look; where producers do, a
  // stretch further on, out of their way (the records skipped are about to be overwritten).
  const Geometry& geometry = file_.geometry();
  for (const std::uint64_t margin : {std::uint64_t{0}, 4 * geometry.max_frame_stride, geometry.capacity / 8}) {
    if (const auto boundary = find_oldest_intact_boundary(file_, view_, margin)) return *boundary;
  }
  return head();
}

std::uint64_t RecordSearch::head() const noexcept {
  // Acquire: pairs with the producers' seq_cst head CAS; every byte below it belongs to a frame.
  return atomic_field(file_.header().head_position.value).load(std::memory_order_acquire);
}

std::uint64_t RecordSearch::resolve(const Seek& seek) {
  switch (seek.kind) {
    case Seek::Kind::earliest:
      return oldest_boundary();
    case Seek::Kind::latest:
      return head();
    case Seek::Kind::position:
      return resolve_position(seek.position, seek.next_boundary);
    case Seek::Kind::time: {
      const auto since_epoch = seek.time.time_since_epoch();
      const auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count();
      return first_at_or_after(nanoseconds < 0 ? 0 : static_cast<std::uint64_t>(nanoseconds));
    }
    case Seek::Kind::last_records:
      return last_records(seek.records);
  }
  // A value outside the enum read as latest (found by a tester).
  throw Error(ErrorCode::invalid_argument,
              "unknown Seek kind " + std::to_string(static_cast<int>(seek.kind)) + "; make the Seek with its functions");
}

std::optional<std::uint64_t> RecordSearch::claim_end_covering(std::uint64_t position) const noexcept {
  for (const auto& producer : file_.header().producers) {
    const OpenClaim claim = read_claim(producer);
    // One no producer can have made is a damaged entry, as for a consumer (OpenClaims).
    if (!claim.plausible(file_.geometry())) continue;
    if (claim.start <= position && position < claim.end) return claim.end;
  }
  return std::nullopt;
}

std::uint64_t RecordSearch::past_known_damage(std::uint64_t from) const noexcept {
  for (const DamagedStretch& stretch : stretches_) {
    if (stretch.start <= from && from < stretch.resume_at) return stretch.resume_at;
  }
  return from;
}

void RecordSearch::remember_damage(std::uint64_t start, std::uint64_t resume_at) noexcept {
  stretches_[next_stretch_] = {start, resume_at};
  next_stretch_ = (next_stretch_ + 1) % kKeptStretches;
}

RecordSearch::LaidFrame RecordSearch::read_frame_in_lap(std::uint64_t position) noexcept {
  const Geometry& geometry = file_.geometry();
  LaidFrame laid;
  std::byte* frame = view_.at(geometry.offset_of(position), header_bytes_at(position, geometry));
  if (frame == nullptr) return laid;
  laid.read = read_frame(frame, position, geometry);
  cost_.frames += 1;
  if (laid.read.kind == FrameKind::data) {
    // Relaxed: the commit word's acquire load in read_frame ordered the header after it; the
    // overwrite check below decides whether what we read is still this record's.
    laid.time_ns = atomic_field(header_of(frame).timestamp_ns).load(std::memory_order_relaxed);
  }
  // The loads above complete before the frontier is read in overwritten() (seqlock-style).
  acquire_fence();
  laid.overwritten = overwritten(file_, position);
  if (!laid.overwritten) laid.frame = frame;
  return laid;
}

RecordSearch::Probe RecordSearch::probe(std::uint64_t from, std::uint64_t end) noexcept {
  const Geometry& geometry = file_.geometry();
  // Where find_boundary finds none (a stretch of damaged bytes), or a frame after padding reads
  // damaged, the scan goes on past them: the first intact record after the damage says on which
  // side of the answer it lies, and first_unskipped lands on the damage where that matters.
  std::uint64_t scan_from = past_known_damage(from);
  std::optional<std::uint64_t> damage_start;  // where this probe's scan met damage, if it did
  while (scan_from < end) {
    const std::optional<std::uint64_t> boundary =
        find_boundary(view_, scan_from, end, geometry, file_.header().producers);
    const std::uint64_t scanned_to = boundary ? *boundary : std::min(scan_from + 2 * geometry.max_frame_stride, end);
    cost_.scanned_bytes += scanned_to - scan_from;
    if (!boundary) {
      if (overwritten(file_, scan_from)) return {Probe::Kind::gone, scan_from, 0};
      if (!damage_start) damage_start = scan_from;
      scan_from = past_known_damage(scan_from + 2 * geometry.max_frame_stride);  // what find_boundary scanned
      continue;
    }
    std::uint64_t position = *boundary;
    if (damage_start) {
      remember_damage(*damage_start, position);
      damage_start.reset();
    }
    scan_from = end;  // unless damage sends the scan on
    while (position < end) {
      const LaidFrame laid = read_frame_in_lap(position);
      if (laid.frame == nullptr) return {laid.overwritten ? Probe::Kind::gone : Probe::Kind::unreadable, position, 0};
      const FrameRead& read = laid.read;
      if (read.kind == FrameKind::data || read.kind == FrameKind::uncommitted) {
        return {Probe::Kind::record, position, laid.time_ns};
      }
      if (read.kind == FrameKind::corrupt) {
        damage_start = position;
        scan_from = past_known_damage(position + format::kFrameAlignment);
        break;
      }
      position += read.stride;  // padding
    }
  }
  return {Probe::Kind::end, end, 0};
}

std::uint64_t RecordSearch::first_at_or_after(std::uint64_t time_ns) noexcept {
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::uint64_t end = head();
    // Binary search over probe positions p in [low, high]: probe(p) finds the first record at
    // or after the boundary at or after p, and "its commit time is at or after time_ns" is
    // false below some p and true from there on (timestamps grow with positions, see
    // docs/seeking.md). `answer` is the record of the lowest p found true so far.
    std::uint64_t low = std::min(oldest_boundary(), end);
    std::uint64_t high = end;
    std::uint64_t answer = end;
    // The highest boundary known to start a record older than time_ns (at first the oldest
    // boundary): everything from it to `answer` is read frame by frame at the end, since the
    // probes' scans step over damaged bytes and over intact records right before them.
    std::optional<std::uint64_t> older = low;
    while (low < high) {
      const std::uint64_t middle = low + (high - low) / 2 / format::kFrameAlignment * format::kFrameAlignment;
      const Probe found = probe(middle, end);
      cost_.probes += 1;
      switch (found.kind) {
        case Probe::Kind::end:
          answer = found.position;
          high = middle;
          break;
        case Probe::Kind::record:
          if (found.time_ns >= time_ns) {
            answer = found.position;
            high = middle;
          } else {
            // Every probe from `middle` up to this record finds this record: skip them.
            low = found.position + format::kFrameAlignment;
            older = found.position;
          }
          break;
        case Probe::Kind::gone: {
          // Overwritten while we searched: older than anything still in the ring.
          const std::uint64_t oldest = oldest_kept_position(file_);
          low = std::max(middle + format::kFrameAlignment, format::align_up(oldest, format::kFrameAlignment));
          older.reset();  // the records before are being overwritten: nothing to confirm there
          break;
        }
        case Probe::Kind::unreadable:
          low = middle + format::kFrameAlignment;  // no view of the bytes now: look past them
          break;
      }
    }
    // In an intact ring `older` is the record right before `answer`, a frame or two away.
    if (older) answer = first_unskipped(*older, answer, time_ns);
    if (!overwritten(file_, answer)) return answer;
    // The record found was overwritten before we could hand it out: it was the oldest one; the
    // search is over as soon as the search finds a record that outlives it.
  }
  return oldest_boundary();
}

std::uint64_t RecordSearch::first_unskipped(std::uint64_t from, std::uint64_t answer, std::uint64_t time_ns) noexcept {
  std::uint64_t position = from;
  bool reread = false;
  while (position < answer) {
    const LaidFrame laid = read_frame_in_lap(position);
    // No view now, or overwritten (the caller searches again if the answer is too): the search's
    // answer stands.
    if (laid.frame == nullptr) return answer;
    const FrameRead& read = laid.read;
    const std::uint64_t frame_time_ns = laid.time_ns;
    switch (read.kind) {
      case FrameKind::padding:
        position += read.stride;
        break;
      case FrameKind::data:
        if (frame_time_ns >= time_ns) return position;  // a record the probes stepped over
        position += read.stride;
        break;
      case FrameKind::uncommitted:
        // An open claim commits later than anything committed now, as a probe counts it. Bytes no
        // producer claims (read once more: the producer may just have committed) are left to the
        // consumer, which pads them over or reports them as it does reading from the oldest.
        if (claim_end_covering(position) || reread) return position;
        reread = true;
        continue;
      case FrameKind::corrupt:
        // Damaged bytes between a record older than time_ns and the first found at or after it:
        // the records they held may be the ones asked for. The consumer's poll reports them.
        return position;
    }
    reread = false;
  }
  // Reached it: the search's answer (past it only where `from` was not below it, or a frame's
  // stride crossed it; then the answer stands too).
  return answer;
}

std::optional<RecordSearch::Walk> RecordSearch::walk(std::uint64_t from, std::uint64_t end,
                                                     std::uint64_t stop_at_record) noexcept {
  const Geometry& geometry = file_.geometry();
  Walk walked{0, from};
  bool reread = false;
  while (walked.position < end) {
    const std::uint64_t position = walked.position;
    const LaidFrame laid = read_frame_in_lap(position);
    if (laid.frame == nullptr) return std::nullopt;
    const FrameRead& read = laid.read;
    std::byte* frame = laid.frame;
    if (read.kind == FrameKind::data && read.group) {
      // Each record of a group counts, and has a position of its own to stop at.
      frame = view_.at(geometry.offset_of(position), read.stride);
      if (frame == nullptr) return std::nullopt;
      std::uint64_t offset = format::kRecordHeaderBytes;
      while (offset < read.frame_length) {
        const GroupEntry entry = read_group_entry(frame, read.frame_length, offset);
        if (entry.problem != nullptr) {
          acquire_fence();  // the entry's loads complete before the frontier is read
          if (overwritten(file_, position)) return std::nullopt;
          // A consumer cannot start at a damaged entry: it is told of it from the group's start.
          return Walk{walked.records, position, true, position + read.stride};
        }
        if (walked.records == stop_at_record) {
          acquire_fence();  // the entries' loads complete before the frontier is read
          if (overwritten(file_, position)) return std::nullopt;
          walked.position = position + offset;
          return walked;
        }
        walked.records += 1;
        offset = entry.next_offset;
      }
      acquire_fence();
      if (overwritten(file_, position)) return std::nullopt;
      walked.position += read.stride;
    } else if (read.kind == FrameKind::data) {
      if (walked.records == stop_at_record) return walked;
      walked.records += 1;
      walked.position += read.stride;
    } else if (read.kind == FrameKind::padding) {
      walked.position += read.stride;
    } else if (read.kind == FrameKind::uncommitted) {
      // An open claim below the head: its record is not committed yet, so it is not among the
      // last records; step over the whole claim. Read once more if no claim covers it: its
      // producer may have committed since.
      if (const auto claim_end = claim_end_covering(position)) {
        walked.position = *claim_end;
      } else if (!reread) {
        reread = true;
        continue;
      } else {
        return walked;  // nothing further can be counted now
      }
    } else {
      return Walk{walked.records, position, true, position + format::kFrameAlignment};  // damaged bytes
    }
    reread = false;
  }
  walked.position = std::min(walked.position, end);
  return walked;
}

std::optional<RecordSearch::Tally> RecordSearch::tally(std::uint64_t from, std::uint64_t end) noexcept {
  Tally tally{0, from, std::nullopt};
  for (;;) {
    const std::optional<Walk> walked = walk(tally.counted_from, end, kNever);
    if (!walked) return std::nullopt;
    if (!walked->damaged) {
      tally.records = walked->records;
      return tally;
    }
    // How many records the damaged bytes held is unknown: count again after them.
    tally.damage = walked->position;
    tally.counted_from = boundary_from(walked->resume_at, end);
  }
}

double RecordSearch::average_frame_bytes() const noexcept {
  std::uint64_t records = 0;
  std::uint64_t bytes = 0;
  for (const auto& producer : file_.header().producers) {
    // Relaxed: counters kept by each producer for display; a stale pair only skews a guess.
    records += atomic_field(producer.committed_records).load(std::memory_order_relaxed);
    bytes += atomic_field(producer.committed_bytes).load(std::memory_order_relaxed);
  }
  if (records == 0) return kDefaultFrameBytes;
  const double payload = static_cast<double>(bytes) / static_cast<double>(records);
  return static_cast<double>(format::kRecordHeaderBytes) + payload + format::kFrameAlignment / 2.0;
}

std::uint64_t RecordSearch::last_records(std::uint64_t count) noexcept {
  const Geometry& geometry = file_.geometry();
  const std::uint64_t end = head();
  if (count == 0) return end;
  // Step back a quarter more than `count` average records, count what is there, and step back
  // further (twice as far, or as far as the count found suggests) until there are enough.
  double distance = (static_cast<double>(count) * 1.25 + 1) * average_frame_bytes();
  constexpr int kAttempts = 64;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const std::uint64_t oldest = oldest_boundary();
    if (oldest >= end) return end;  // overwritten past where we started: nothing of it is left
    std::uint64_t start = oldest;
    if (static_cast<double>(end - oldest) > distance) {
      const auto back = static_cast<std::uint64_t>(distance);
      const std::optional<std::uint64_t> boundary = find_boundary(view_, end - back, end, geometry, file_.header().producers);
      if (!boundary) continue;  // overwritten while we looked: the oldest has moved
      start = *boundary;
    }
    const std::optional<Tally> counted = tally(start, end);
    if (!counted) continue;
    if (counted->records >= count) {
      const std::optional<Walk> skipped = walk(counted->counted_from, end, counted->records - count);
      if (skipped && !skipped->damaged) return skipped->position;
      continue;
    }
    // Fewer intact records after the damage than asked for: the count-th last lies in it or
    // before it. Land on it, so that reading reports it as it does from the oldest record.
    if (counted->damage) return *counted->damage;
    if (start == oldest) return oldest;  // fewer records than asked for: all of them
    const double found = static_cast<double>(std::max<std::uint64_t>(counted->records, 1));
    distance *= std::max(2.0, 1.25 * static_cast<double>(count) / found);
  }
  return oldest_boundary();
}

}  // namespace ringfile::detail
