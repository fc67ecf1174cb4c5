// A consumer's recovery from what poll meets off the usual path: being lapped by producers, a
// frame below the head that stays uncommitted (a producer that died or stalls mid-record), and
// damage in the file. The usual reading is in consumer.cpp.
#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "atomics.hpp"
#include "clock.hpp"
#include "consumer_core.hpp"
#include "frames.hpp"
#include "record_search.hpp"
#include "slot_tables.hpp"
#include "wakeups.hpp"

namespace ringfile::detail {

std::uint64_t ConsumerCore::oldest_boundary(std::uint64_t margin) noexcept {
  return oldest_intact_boundary(file_, view_, margin);
}

bool ConsumerCore::skip_lapped() noexcept {
  // Preparation runs a fraction of a lap ahead of the head. A frontier more than a lap ahead
  // cannot be right (a damaged or hostile header): every position would read as overwritten.
  // Acquire: pairs with the preparer's seq_cst store of preparing_end (paging.cpp) and the
  // producers' seq_cst head CAS; what lies below them was invalidated or reserved before.
  const std::uint64_t preparing =
      atomic_field(header_.preparation.preparing_end).load(std::memory_order_acquire);
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (preparing > head + geometry_.capacity || !format::plausible_position(head)) return false;
  // Land a little ahead of the oldest byte so that the producers do not lap us again at once.
  const std::uint64_t margin = std::min(geometry_.capacity / 4, 4 * geometry_.max_frame_stride);
  std::uint64_t restart = oldest_boundary(margin);
  // Never back: inside a lapped group, on past the group (its header is what was overwritten).
  if (group_start_ != kNoGroup) restart = std::max(restart, group_start_ + group_stride_);
  restart = std::max(restart, position_);
  stats_.lapped_count += 1;
  stats_.lost_bytes += restart - position_;
  losses_to_settle_ = true;
  // Relaxed: a count for status, written only by this consumer; nothing is published with it.
  if (slot_ != nullptr) atomic_field(slot_->lost_bytes).store(stats_.lost_bytes, std::memory_order_relaxed);
  leave_group(restart);
  return true;
}

// The frame at `position` is below the head but uncommitted. Returns true when it was padded
// over (its producer died, or it outlived the unblock timeout), so the caller reads it again.
// @pre position < known_head_: a producer reserved the frame and is filling it (the usual case,
// met at almost every record when the consumer keeps up), or the frame is stuck.
bool ConsumerCore::resolve_uncommitted(std::byte* frame, std::uint64_t position,
                                       std::uint64_t commit_word) noexcept {
  // The coarse clock: the grace and recheck periods are milliseconds, the timeouts seconds, and
  // a precise reading here would be paid at almost every record.
  const std::uint64_t now = coarse_monotonic_ns();
  if (stuck_position_ != position) {
    stuck_position_ = position;
    stuck_since_ns_ = now;
    next_stuck_check_ns_ = now + kStuckGraceNs;
    unclaimed_hole_ = false;
    return false;
  }
  if (unclaimed_hole_ || now < next_stuck_check_ns_) return false;
  next_stuck_check_ns_ = now + kStuckRecheckNs;
  // Producers wait for a holding consumer, but its records are gone all the same when the
  // header lied to them (a damaged or forged shared limit): the frame here is then of a later
  // lap and reads as uncommitted. Counted as lost, as a lapped tap's are, instead of waiting for
  // a producer that is not there, and then calling it damage.
  if (!may_be_lapped_ && lapped(position) && skip_lapped()) return true;
  const auto unblock_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(file_.info().unblock_timeout).count());
  // More than one claim may cover the frame: a producer killed between publishing its claim and
  // moving the head leaves a claim on space it never reserved, which another producer then
  // reserves. The space is someone's as long as any claim on it is alive; once all are dead (or
  // stuck), padding up to the nearest end stays inside the real owner's reservation, whichever
  // of them that was.
  std::uint64_t padding_end = geometry_.lap_end(position);
  bool claimed = false;
  for (auto& producer : header_.producers) {
    const OpenClaim claim = read_claim(producer);
    if (position < claim.start || position >= claim.end) continue;
    if (!claim.plausible(geometry_)) continue;  // a damaged table entry, no claim
    const bool outlived_timeout = claim.outlived(realtime_ns(), unblock_ns);
    if (!producer_gone(producer) && !outlived_timeout) return false;
    claimed = true;
    padding_end = std::min(padding_end, claim.end);
  }
  if (claimed) {
    // Only space someone reserved: a claim reaching past the head is one that never moved it
    // (its producer died first), or a forged one (pad_abandoned_range keeps the same bound).
    padding_end = std::min(padding_end, known_head_);
    if (slot_ == nullptr || may_be_lapped_) {
      // A read-only tap cannot pad the claim over, and a consumer producers may lap must not: a
      // producer may close the claim and reserve its space again while we pad (the padding
      // would land in new records). It steps over it, as it would over padding; holding
      // consumers, or the producer the claim holds back a lap later, pad it over.
      if (atomic_field(commit_word_of(frame)).load(std::memory_order_acquire) == commit_word) {
        position_ = padding_end;
      }
      return true;
    }
    if (pad_over(frame, position, padding_end - position, commit_word, geometry_)) {
      wake_sleepers(header_.data_wait);  // other consumers wait on the same frame
    }
    return true;  // padded by us, or changed under us: read it again either way
  }
  // No producer claims it. Live, that lasts only while a producer finishes its commit; for
  // longer than the unblock timeout it is damage: writes that never reached the file (a crash
  // of the machine), or bytes changed behind the library's back.
  unclaimed_hole_ = now > stuck_since_ns_ + unblock_ns;
  return false;
}

void ConsumerCore::settle_tail_losses() noexcept {
  // Found by a tester: with two producers lapped, the one that wrote nothing after its lost
  // records was missing from lost_records, a definite-looking count that was too low.
  std::array<std::uint64_t, format::kProducerSlotCount> written{};
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    // Acquire: pairs with the release store of advance_sequence, made after the producer moved
    // the head past the records it counts; so the head loaded below is past them too.
    if (sequence_known_[index]) written[index] = atomic_field(header_.producers[index].next_sequence).load(std::memory_order_acquire);
  }
  // Acquire: pairs with the producers' head CAS.
  const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
  if (position_ < head) return;  // records still to read may carry them: again once caught up
  for (std::uint32_t index = 0; index < format::kProducerSlotCount; ++index) {
    if (!sequence_known_[index] || written[index] <= expected_sequence_[index]) continue;
    stats_.lost_records += written[index] - expected_sequence_[index];
    expected_sequence_[index] = written[index];
  }
  // Relaxed: a count for status, written only by this consumer; nothing is published with it.
  if (slot_ != nullptr) atomic_field(slot_->lost_records).store(stats_.lost_records, std::memory_order_relaxed);
  losses_to_settle_ = false;
}

// Past damage that poll reported: to the next record boundary (a frame that names its own
// position and is followed by another, a lap start, or the head), counting the bytes skipped
// as lost; the records among them show up as lost by their producers' sequence numbers.
void ConsumerCore::skip_damage() noexcept {
  std::uint64_t restart = resume_after_damage_;
  if (restart == kNoDamage) {
    const std::uint64_t head = atomic_field(header_.head_position.value).load(std::memory_order_acquire);
    std::uint64_t from = position_ + format::kFrameAlignment;
    std::optional<std::uint64_t> boundary;
    while (!(boundary = find_boundary(view_, from, head, geometry_))) from += 2 * geometry_.max_frame_stride;
    restart = std::max(*boundary, position_);
  }
  stats_.lost_bytes += restart - position_;
  losses_to_settle_ = true;
  // Relaxed: a count for status, written only by this consumer; nothing is published with it.
  if (slot_ != nullptr) atomic_field(slot_->lost_bytes).store(stats_.lost_bytes, std::memory_order_relaxed);
  if (group_start_ != kNoGroup && restart < group_start_ + group_stride_) {
    position_ = restart;  // the group's next record: the damaged one's entry was sound
    group_index_ += 1;
  } else {
    leave_group(restart);
  }
  damaged_at_ = kNoDamage;
  resume_after_damage_ = kNoDamage;
  unclaimed_hole_ = false;
  stuck_position_ = ~std::uint64_t{0};
}

PollStatus ConsumerCore::report_damage(std::uint64_t position, const char* problem) {
  // A checksum also fails where a producer filled a claim in the mapping for longer than the
  // unblock timeout: the claim was padded over and its space reused, and the late bytes landed in
  // newer records (Producer::try_claim). The file cannot tell the two apart; say both.
  const bool checksum = std::string_view(problem) == kChecksumMismatch;
  damage_message_ = "'" + file_.info().path.string() + "': corrupt record at position " +
                   std::to_string(position) + ": " + problem + "; the file is damaged" +
                   (checksum ? ", or a producer went on filling a claim past the unblock timeout, after "
                               "its space was reused"
                             : "") +
                   " (restore it, or read on past it: poll again, or ringfile-consumer --skip-damaged)";
  damaged_at_ = position;
  return PollStatus::corrupt;
}

}  // namespace ringfile::detail
