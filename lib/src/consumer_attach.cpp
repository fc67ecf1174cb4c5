// Attaching and detaching consumers: the name, the start position, and the block policy's
// hand-shake that makes producers respect a newly attached cursor. The slot itself is chosen,
// taken and given back by its life cycle (slot_life_cycle.hpp).
#include <algorithm>
#include <cstdio>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_core.hpp"
#include "consumer_names.hpp"
#include "paging.hpp"
#include "record_search.hpp"
#include "ring_access.hpp"
#include "ringfile/error.hpp"
#include "slot_life_cycle.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

namespace {

std::string describe(const RingFile& file) { return "'" + file.info().path.string() + "'"; }

// Names appear in tables, JSON and Prometheus labels: see consumer_names.hpp for the rule. The
// name is shown as printable_consumer_name shows it: the refused characters are what a terminal
// would act on.
Error refused_name(const RingFile& file, const std::string& name, const std::string& problem) {
  return Error(ErrorCode::invalid_argument,
               describe(file) + ": consumer name '" + printable_consumer_name(name) + "' " + problem);
}

}  // namespace

ConsumerCore::ConsumerCore(const Ring& ring, const ConsumerOptions& options)
    : ring_(ring),
      file_(file_of_given(ring)),
      header_(file_.header()),
      geometry_(file_.geometry()),
      options_(options),
      view_(file_, file_.read_only() ? DataView::Access::read_only : DataView::Access::read_write,
            DataView::Use::reading),
      replay_(file_) {
  // A name the rule refuses may still resume a slot of its own: the rule has grown (no-break
  // spaces, bidirectional controls and backslashes were allowed once), and a consumer named
  // before keeps its cursor. Too long a name never fits a slot.
  const std::string name_problem = consumer_name_problem(options_.name);
  if (!name_problem.empty() && (file_.read_only() || options_.name.size() >= format::kConsumerNameBytes)) {
    throw refused_name(file_, options_.name, name_problem);
  }
  if (file_.read_only()) {
    attach_read_only();
    return;
  }
  const bool holds_back = options_.holds_back && file_.policy() == WriterPolicy::block;
  may_be_lapped_ = !holds_back;

  std::uint64_t start = 0;
  {
    TableLock lock(file_);
    const ConsumerSlotChoice choice = choose_consumer_slot(file_, options_.name);
    name_expired_ = choice.expired;
    if (!name_problem.empty() && !choice.resumed) throw refused_name(file_, options_.name, name_problem);
    auto& slot = header_.consumers[choice.index];
    // Acquire: pairs with the last seq_cst store of the saved cursor (its last owner's commit,
    // or an operator's reset).
    start = choose_start(choice.resumed, atomic_field(slot.cursor).load(std::memory_order_acquire));
    take_consumer_slot(file_, choice, options_, start);
    use_slot(choice.index, start);
    learn_producer_sequences(start);
  }
  attached_ = true;
  if (holds_back) hold_back_from_start();
  view_.fill_whole_area(options_.pre_touch);
}

ConsumerCore::~ConsumerCore() { detach(); }

// A reader without write access takes no slot: it cannot save a cursor or hold producers back,
// so it is a tap that may be lapped (and counts what it lost), and it never writes to the file.
void ConsumerCore::attach_read_only() {
  if (!options_.name.empty()) {
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + " was opened read-only, so consumer '" + options_.name +
                    "' cannot save its cursor there; attach without a name, or with write access");
  }
  if (options_.holds_back) {
    throw Error(ErrorCode::invalid_argument,
                describe(file_) + " was opened read-only: a consumer without write access cannot "
                                  "hold producers back; attach with holds_back = false (--no-hold)");
  }
  may_be_lapped_ = true;
  const std::uint64_t start = choose_start(false, 0);
  committed_ = start;
  move_to(start);
  learn_producer_sequences(start);
  attached_ = true;
  view_.fill_whole_area(options_.pre_touch);
}

// A named consumer's saved cursor beyond the head: what it had read up to there was lost.
std::uint64_t ConsumerCore::validated_saved_cursor(std::uint64_t saved_cursor) const {
  // Checked at open too, but the slot may have been written since: a frame is read there next.
  if (!format::plausible_position(saved_cursor)) {
    throw Error(ErrorCode::corrupt,
                describe(file_) + ": consumer '" + options_.name + "' was saved at position " +
                    std::to_string(saved_cursor) + ", which no record starts at (the slot is damaged); "
                    "attach with StartFrom::latest or earliest (--from latest, --from earliest)");
  }
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (saved_cursor > head) {
    throw Error(ErrorCode::corrupt,
                describe(file_) + ": consumer '" + options_.name + "' was saved at position " +
                    std::to_string(saved_cursor) + ", beyond the ring's head " + std::to_string(head) +
                    ": the records it had read up to there did not survive (a crash of the machine "
                    "loses what was not synced); attach with StartFrom::latest or earliest (--from latest, "
                    "--from earliest)");
  }
  return saved_cursor;
}

std::uint64_t ConsumerCore::choose_start(bool resumed, std::uint64_t saved_cursor) {
  const std::uint64_t start = find_start(resumed, saved_cursor);
  // Most starts come from the head (latest, or the fallback of every search), which was checked
  // at open but may have been written since: the first frame is read at the start.
  if (!format::plausible_position(start)) {
    throw Error(ErrorCode::corrupt, describe(file_) + ": the ring's head (" + std::to_string(start) +
                                        ") is no position a producer writes: the header is damaged; "
                                        "stop its producers and check the file with ringfile-status");
  }
  return start;
}

std::uint64_t ConsumerCore::find_start(bool resumed, std::uint64_t saved_cursor) {
  std::optional<Seek> seek = options_.seek;
  if (!seek && options_.start_position) seek = Seek::to_position(*options_.start_position);
  if (!seek) {
    switch (options_.start) {
      case StartFrom::committed:
        if (resumed && !options_.name.empty()) return validated_saved_cursor(saved_cursor);
        seek = Seek::latest();
        break;
      case StartFrom::latest:
        seek = Seek::latest();
        break;
      case StartFrom::earliest:
        seek = Seek::earliest();
        break;
    }
    // A value outside the enum left no seek at all, which was then read (found by a tester).
    if (!seek) {
      throw Error(ErrorCode::invalid_argument, "unknown ConsumerOptions::start " +
                                                   std::to_string(static_cast<int>(options_.start)) +
                                                   "; use StartFrom::earliest, latest or committed");
    }
  }
  if (seek->kind == Seek::Kind::earliest) {
    started_at_oldest_ = true;
    const std::uint64_t frontier = reclaimed_frontier(file_);
    if (frontier <= geometry_.capacity) return 0;
    // A margin: producers and the paging engine may move on while we attach and scan.
    const std::uint64_t margin = std::min(geometry_.capacity / 8, file_.view_step());
    if (may_be_lapped_) return oldest_boundary(margin);
    // A consumer producers wait for starts at the oldest record itself when nothing was written
    // while it was found (with the margin it skipped an eighth of an idle ring's records):
    // hold_back_from_start holds producers there, or moves it on to the oldest there is should
    // they pass it meanwhile. While they write, the search for a boundary at the oldest byte races
    // them and may give up (at the head: found in review): the margin then, as for a tap.
    const std::uint64_t oldest = oldest_boundary(0);
    if (reclaimed_frontier(file_) == frontier) return oldest;
    return oldest_boundary(margin);
  }
  RecordSearch search(file_, view_);
  return search.resolve(*seek);
}

// Reads from the slot just taken (take_consumer_slot): its cursor, and the records read and the
// losses a resumed named consumer counted before (a taken slot starts them at zero).
void ConsumerCore::use_slot(std::uint32_t slot_index, std::uint64_t start) noexcept {
  slot_index_ = slot_index;
  slot_ = &header_.consumers[slot_index];
  committed_ = start;
  move_to(start);
  last_heartbeat_ns_ = coarse_realtime_ns();
  // Relaxed: written by us just now, or by this name's last owner before it gave the slot back
  // under the table lock we hold.
  stats_.records = atomic_field(slot_->consumed_records).load(std::memory_order_relaxed);
  stats_.lost_bytes = atomic_field(slot_->lost_bytes).load(std::memory_order_relaxed);
  stats_.lost_records = atomic_field(slot_->lost_records).load(std::memory_order_relaxed);
  carried_stats_ = stats_;
}

// A consumer starting at the head knows which sequence each producer's next record carries, so
// records it loses before it has seen any of a producer's are counted too. Elsewhere the
// baseline is unknown until the first record of each producer.
void ConsumerCore::learn_producer_sequences(std::uint64_t start) {
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (start != head) return;
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    auto& producer = header_.producers[index];
    // A claim open below our start commits sequences from the one in the slot on, in records we
    // will not see: one, or a write_batch group's worth, which the slot does not say. That
    // producer's first record we see is then the baseline.
    if (read_claim(producer).open()) continue;
    // Relaxed: a baseline for counting losses. The producer counts a claim's records here before
    // it closes the claim (advance_sequence) with a release store, and read_claim, which loaded
    // that store and then fenced (acquire), makes that count visible; a sequence committed
    // meanwhile is in a record at or past our start, which we will see.
    expected_sequence_[index] = atomic_field(producer.next_sequence).load(std::memory_order_relaxed);
    sequence_known_[index] = true;
  }
}

// Block policy: producers may already be allowed past our start (their limit was computed
// without us); hold_producers_at makes them respect it, or tells that they had already gone past.
void ConsumerCore::hold_back_from_start() {
  if (hold_producers_at(file_, position_) == CursorHold::whole) {
    follow_if_within_hold_window();
    return;
  }
  // Producers or the paging engine moved past what our start keeps (kept_from_cursor) while we
  // attached (or our saved cursor is older than the ring): the old lap beyond the frontier is
  // still intact and now protected. Where that includes our frame, nothing was lost: the oldest
  // boundary is at or before it. Asked for record_only too, where the record at our cursor is
  // intact but a group's header before it may not be: move_to then found no group, and the
  // cursor, read as a frame's start, would stall on the entry's bytes (found in review).
  const std::uint64_t restart = oldest_boundary(0);
  if ((group_start_ != kNoGroup ? group_start_ : position_) < restart) {
    // A start at the oldest record moves on to the one that is now: nothing of its own was lost.
    if (!started_at_oldest_) {
      stats_.lapped_count += 1;  // as skip_lapped counts a lap met while reading
      stats_.lost_bytes += restart - position_;
      losses_to_settle_ = true;
      // Relaxed: a count for status, written only by this consumer; nothing is published with it.
      atomic_field(slot_->lost_bytes).store(stats_.lost_bytes, std::memory_order_relaxed);
    }
    leave_group(restart);
  }
  commit();
}

void ConsumerCore::detach() noexcept {
  if (!attached_) return;
  // Without auto-commit the saved cursor is what the user committed: records read since were
  // not confirmed as handled, and a named consumer reads them again when it returns.
  if (options_.auto_commit) commit();
  attached_ = false;
  view_.unmap();
  if (slot_ == nullptr) return;  // a read-only tap holds no slot
  release_consumer_slot(file_, slot_index_);
  wake_sleepers(header_.space_wait);  // producers may have been waiting for us
}

}  // namespace ringfile::detail
