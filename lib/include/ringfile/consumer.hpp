// Reading records from a ring: each consumer sees every record, in order.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>

#include "ringfile/options.hpp"
#include "ringfile/ring.hpp"
#include "ringfile/seek.hpp"

namespace ringfile {

namespace detail {
class ConsumerCore;
}

enum class StartFrom {
  earliest,   // oldest record still intact in the ring (while producers write, or for a consumer
              // they may lap: up to an eighth of the ring later, so that it is not lapped at once)
  latest,     // records committed from now on
  committed,  // a named consumer's saved cursor (latest for a new or anonymous one)
};
// earliest and latest start there at every attach, a named consumer's saved cursor
// notwithstanding: give one of them for the first attach of a name only, committed after.

// Consumer::slot() of a read-only tap, which holds no slot in the file.
inline constexpr std::uint32_t kNoConsumerSlot = 0xFFFFFFFF;

// Over a Ring opened read-only (OpenOptions::read_only) a consumer is a tap without a slot: it
// must be anonymous and not hold producers back, never writes to the file, may be lapped (and
// reports what it lost), and is not listed by Ring::consumers().
struct ConsumerOptions {
  // Empty: anonymous, slot freed on detach. At most 31 bytes of UTF-8 without spaces (nor
  // no-break or invisible ones), control characters, line separators, bidirectional controls or
  // backslashes: names are shown in tables and on terminals as they are.
  std::string name;
  StartFrom start = StartFrom::committed;
  std::optional<std::uint64_t> start_position;  // overrides `start`; same as seek = to_position()
  std::optional<Seek> seek;                     // overrides `start` and `start_position`
  // A named consumer not attached (detached, or its process gone) for longer than this since it
  // was last seen is past expiry: ringfile-status shows it EXPIRED, and its slot may be taken by
  // another consumer, after which the name starts afresh. Zero: never.
  std::chrono::milliseconds expire_after{0};
  bool holds_back = true;      // block policy: producers wait for this consumer
  bool auto_commit = true;     // commit the cursor at the end of every poll
  // Check each payload against its CRC32C, where its producer computed one.
  bool verify_checksums = true;
  IdleStrategy idle = IdleStrategy::spin_then_sleep;
  // For latency: as ProducerOptions::pre_touch, for the pages this consumer reads.
  bool pre_touch = false;
};

// A record handed to a poll handler. `payload` is valid only during the call.
struct Record {
  std::span<const std::byte> payload;
  // Where the record starts: its frame, or inside a group frame its entry (write_batch's groups,
  // docs/format.md). A place a cursor may be committed at and a seek may start from.
  std::uint64_t position = 0;
  std::uint64_t timestamp_ns = 0;  // CLOCK_REALTIME at the producer's commit, to microseconds
                                   // (one for all the records of a write_batch group)
  std::uint64_t producer_sequence = 0;
  std::uint16_t producer_slot = 0;
};

enum class PollStatus {
  ok,
  // Damage where the next record should be: a frame that cannot be right, a payload that fails
  // its checksum, or bytes below the head that no producer claims for longer than the unblock
  // timeout (writes lost in a crash of the machine). See PollResult::error_message. The consumer
  // stays there; the next poll skips to the next intact record and counts what it skipped as
  // lost (ConsumerStats::lost_bytes, and lost_records by the producers' sequence numbers).
  corrupt,
};

struct PollResult {
  std::size_t records = 0;
  PollStatus status = PollStatus::ok;
  // PollStatus::corrupt: the file, the position, what is wrong there and what to do (one line).
  std::string error_message;
};

struct ConsumerStats {
  std::uint64_t records = 0;  // read; a resumed named consumer's earlier runs' included (carried_stats)
  std::uint64_t bytes = 0;
  // Lapped (overwrite policy), expired or damaged, by the producer slots' sequence numbers: each
  // number below a slot's newest record read that was not read. A slot's numbers go on across
  // its owners, so a producer that takes over the slot of one that ended also tells of that
  // one's last records, if they were lost. Counted from the first record of each producer that
  // this attachment reads (attached at the head, from there): records passed while a named
  // consumer was away show in lost_bytes only, as the file keeps no sequence numbers for them.
  // Once caught up with the head after a loss, the numbers such a producer wrote after its newest
  // record read count too (lost with nothing of it read after them).
  std::uint64_t lost_records = 0;
  std::uint64_t lost_bytes = 0;
  // Times this attachment skipped ahead; once at attach when a named consumer's cursor was passed
  // while it was away.
  std::uint64_t lapped_count = 0;
  std::uint64_t checksum_failures = 0;
};

struct Lag {
  std::uint64_t bytes = 0;     // head - position
  std::optional<double> seconds;  // age of the oldest unread record; 0 with nothing unread
};

// @pre one thread at a time per Consumer.
class Consumer {
 public:
  // Returns false to leave the record unread and end the poll (see poll()).
  using HandlerFn = bool (*)(void* context, const Record& record);

  // Takes (or, named, resumes) a consumer slot. Throws Error (busy, table_full, invalid_argument
  // for a start position that is not a record boundary or a moved-from Ring, ...). A moved-from
  // Consumer may only be assigned to or destroyed.
  static Consumer attach(const Ring& ring, const ConsumerOptions& options = {});
  // Opens the ring at `path` (Ring::open) and attaches to it; a tap (anonymous, holds_back
  // false) without write access to the file opens it read-only and attaches without a slot.
  static Consumer attach(const std::filesystem::path& path, const ConsumerOptions& options = {});
  ~Consumer();
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;

  // Hands up to `max_records` committed records to `handler(const Record&)`, zero copy where the
  // policy guarantees the bytes cannot change under the handler (block policy, holding consumer),
  // else through a checked copy. Never blocks. A handler that returns bool may stop early:
  // returning false leaves that record unread (the cursor stays before it, and the next poll
  // hands it out again), as a reader that stops at a time or a marker needs. A handler may
  // commit() or detach(): detached, the poll ends after that record. It may not poll this
  // consumer again: such a poll throws Error (invalid_argument).
  template <class Handler>
  PollResult poll(Handler&& handler, std::size_t max_records = 1024) {
    using H = std::remove_reference_t<Handler>;
    return poll_raw(
        [](void* context, const Record& record) -> bool {
          H& callable = *static_cast<H*>(context);
          if constexpr (std::is_same_v<std::invoke_result_t<H&, const Record&>, bool>) {
            return callable(record);
          } else {
            callable(record);
            return true;
          }
        },
        const_cast<void*>(static_cast<const void*>(&handler)), max_records);
  }
  PollResult poll_raw(HandlerFn handler, void* context, std::size_t max_records);

  // Waits until poll() has something to do or `timeout` passes; true if it has. Something to do
  // may be padding to step over (after a producer's abort, say), for which poll() hands out no
  // record. False at once once detached.
  bool wait(std::chrono::nanoseconds timeout);

  // Saves the cursor in the file (and releases the space behind it to producers).
  void commit();
  // Saves `position` as the cursor: a record boundary between the last commit and position(),
  // typically the Record::position of the oldest record read but not yet handed on, for a
  // consumer that passes records to a next stage and commits only what that stage confirmed.
  // Returns false (and changes nothing) for a position behind the last commit, past position(),
  // or inside a record (or where no view can be mapped to look). A consumer producers may lap
  // takes a position they have overwritten since, which nothing tells apart any more; the next
  // attach skips on from such a cursor.
  bool commit(std::uint64_t position);
  // Frees an anonymous slot; a named one keeps its committed cursor for the next attach. With
  // auto_commit it first commits; without, the cursor stays at the last commit() (records read
  // since are read again by the next attach under the same name). A named consumer that holds
  // producers back (block policy) goes on holding them at its cursor for the ring's grace period
  // (CreateOptions::consumer_grace), so that one attached again at once loses nothing;
  // delete_consumer lets them go at once. The destructor detaches.
  void detach();

  std::uint64_t position() const noexcept;
  Lag lag() const;
  // Counts since attach; the losses include those a resumed named consumer's slot counted in
  // earlier runs (the slot keeps them, as ringfile-consumer --describe shows).
  const ConsumerStats& stats() const noexcept;
  // What the slot carried from earlier runs when this one attached (a resumed named consumer's
  // records read and losses; bytes are not carried): stats() less these is this attach's. A loss
  // found at attach (a saved cursor the producers have overwritten since) is this attach's, not
  // carried.
  const ConsumerStats& carried_stats() const noexcept;
  // True when attach found this name's slot past its expiry (ConsumerOptions::expire_after): the
  // name started afresh, as if deleted, where its options start a new consumer, not at its saved
  // cursor; what producers wrote since its last run may not have been read (nothing counts it).
  bool name_expired() const noexcept;
  std::uint32_t slot() const noexcept;
  const Ring& ring() const noexcept;

 private:
  explicit Consumer(std::unique_ptr<detail::ConsumerCore> core);
  std::unique_ptr<detail::ConsumerCore> core_;
};

}  // namespace ringfile
