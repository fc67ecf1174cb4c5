// When a producer's reservation finds no space at hand: refreshing the limits consumers and open
// claims set, preparing the old lap's bytes, sleeping until one of them moves, and padding over a
// reservation a failed view left behind. The reservation itself is on the hot path, in
// producer.cpp.
#include "producer_core.hpp"

#include "atomics.hpp"
#include "frames.hpp"
#include "futex.hpp"
#include "ringfile/error.hpp"
#include "slot_life_cycle.hpp"

namespace ringfile::detail {

bool ProducerCore::pad_stranded_reservation() noexcept {
  // A lap later the space belongs to newer records: its claim outlived the unblock timeout,
  // consumers padded it over, and producers went on (open_claims_limit let them), or the preparer
  // cleared it for them, where padding written now would stand in a newer record's way (the head
  // alone was looked at before).
  if (!lapped_past(stranded_.start)) {
    const std::uint64_t parts[2][2] = {{stranded_.start, stranded_.record_position},
                                       {stranded_.record_position, stranded_.end}};
    for (const auto& [from, to] : parts) {
      if (from == to) continue;
      std::byte* frame = view_.at(geometry_.offset_of(from), header_bytes_at(from, geometry_));
      if (frame == nullptr) return false;
      // Acquire: pairs with a consumer's CAS that padded it over first.
      const std::uint64_t word = atomic_field(commit_word_of(frame)).load(std::memory_order_acquire);
      const bool committed_this_lap =
          format::commit_word_length(word) != 0 && format::commit_word_tag(word) == geometry_.tag_of(from);
      if (!committed_this_lap) pad_over(frame, from, to - from, word, geometry_);
    }
  }
  stranded_.present = false;
  close_claim(stranded_.end);
  wake_data_waiters();
  return true;
}

bool ProducerCore::ensure_prepared(std::uint64_t end) noexcept {
  writable_cache_ = pager_.writable_end();
  if (end <= writable_cache_) return true;
  // Prepare a stretch ahead while at it, so that other producers find it ready.
  const PrepareOutcome outcome = pager_.prepare_until(end + pager_.ahead_bytes());
  if (outcome == PrepareOutcome::throttled) {
    // The disk is behind: write back and release here, waiting for the disk if need be. This
    // is the back-pressure that keeps memory bounded when producers outrun the disk.
    pager_.start_writeback();
    if (pager_.release_behind()) pager_.prepare_until(end + pager_.ahead_bytes());
  }
  if (housekeeper_ != nullptr) housekeeper_->notify(end);
  writable_cache_ = pager_.writable_end();
  return end <= writable_cache_;
}

bool ProducerCore::refresh_limit(std::uint64_t end) noexcept {
  return end <= refresh_producer_limit(file_, end, liveness_checks_, &limit_holder_);
}

bool ProducerCore::refresh_claims_limit(std::uint64_t end) noexcept {
  ClaimsLimit limit = open_claims_limit(file_, slot_index_);
  // Claims whose owners are gone hold us a lap behind them until closed: close them, oldest first.
  for (std::uint32_t closed = 0; end > limit.end && limit.abandoned_slot < format::kProducerSlotCount &&
                                 closed < format::kProducerSlotCount;
       ++closed) {
    try {
      // The table lock busy (someone attaching, or closing this very claim): blocked for now,
      // tried again when this producer next looks for space.
      if (!close_abandoned_claim(file_, limit.abandoned_slot)) break;
    } catch (const Error&) {
      break;  // no table lock (the file system failed): blocked for now, tried again later
    }
    limit = open_claims_limit(file_, slot_index_);
  }
  claims_limit_cache_ = limit.end;
  return end <= claims_limit_cache_;
}

void ProducerCore::sleep_for_space(std::uint64_t timeout_ns) noexcept {
  auto& wait = header_.space_wait;
  // seq_cst increment, then the re-check: Dekker with a consumer's seq_cst cursor store and a
  // preparer's seq_cst frontier store, each followed by its load of sleepers (wakeups.hpp).
  atomic_field(wait.sleepers).fetch_add(1, std::memory_order_seq_cst);
  const std::uint32_t observed = atomic_field(wait.futex_word).load(std::memory_order_seq_cst);
  const bool limit_allows =
      (!blocking() || refresh_limit(last_blocked_end_)) && refresh_claims_limit(last_blocked_end_);
  const bool writable = writable_cache_ == kNothingToPrepare || pager_.writable_end() >= last_blocked_end_;
  if (!limit_allows || !writable) {
    futex_wait(&wait.futex_word, observed, std::chrono::nanoseconds(timeout_ns));
  }
  // seq_cst, as the increment: the pair brackets the re-check (wakeups.hpp).
  atomic_field(wait.sleepers).fetch_sub(1, std::memory_order_seq_cst);
}

}  // namespace ringfile::detail
