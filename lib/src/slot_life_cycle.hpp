// The life cycle of the slots of both tables in the header, in one place: taking a slot (a new
// producer, an attaching consumer), giving it back (release, detach), reclaiming the slots of dead
// processes, the expiry of named consumers nobody has seen for long, and an operator's delete and
// reset of a named consumer (ringfile/consumer_table.hpp).
//
// Every transition happens under the table lock (TableLock), so transitions never interleave.
// Readers outside the lock (producers computing their limit, consumers resolving claims, status)
// load a slot's state with acquire; each transition stores the state last, with release.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "process_identity.hpp"
#include "ring_file.hpp"
#include "ringfile/consumer.hpp"
#include "ringfile/consumer_table.hpp"
#include "ringfile/format/file_header.hpp"

namespace ringfile::detail {

// ---- producer slots -------------------------------------------------------------------------

// Takes a free slot (or one whose owner died), padding over any claim its last owner left open.
// Throws Error(table_full).
std::uint32_t acquire_producer_slot(RingFile& file);
void release_producer_slot(RingFile& file, std::uint32_t slot_index) noexcept;
// A slot whose owner is gone, with a claim still open that holds producers a lap behind it
// (open_claims_limit): pads over the claim's uncommitted frames and closes it, unless a new owner
// took the slot meanwhile. Takes the table lock only if it is free now (a reservation must not
// wait on it): false when another thread or process holds it. Throws Error when locking fails.
bool close_abandoned_claim(RingFile& file, std::uint32_t slot_index);

// ---- consumer slots -------------------------------------------------------------------------

struct ConsumerSlotChoice {
  std::uint32_t index = 0;
  bool resumed = false;  // a named consumer's slot with its saved cursor
  bool expired = false;  // its own named slot, found past expiry: the name starts afresh
};

// The slot a consumer named `name` (empty: anonymous) attaches to: its own named slot if it has
// one (resumed, unless past expiry), else a free slot, else one that can be reused (a dead
// anonymous consumer's, or a named one past expiry), which is freed for it.
// @pre the table lock is held. Throws Error: busy (the name is attached by a live process),
// table_full.
ConsumerSlotChoice choose_consumer_slot(RingFile& file, const std::string& name);

// Publishes the chosen slot as attached by this process, its cursor at `start`: a resumed named
// slot keeps its name and counts, any other starts afresh. @pre the table lock is held, `options`
// validated (the name fits).
void take_consumer_slot(RingFile& file, const ConsumerSlotChoice& choice, const ConsumerOptions& options,
                        std::uint64_t start) noexcept;

// Detach: frees an anonymous slot; a named one keeps its cursor, with no owner, last seen now.
// Takes the table lock; without it (the file system failed) the slot stays active and producers
// find its owner gone.
void release_consumer_slot(RingFile& file, std::uint32_t slot_index) noexcept;

// A holding consumer whose process `owner` is gone: reclaim its slot if anonymous, expire it if
// named and its grace period is over. The grace counts from its last heartbeat, or from
// `seen_alive_ns` (CLOCK_REALTIME; 0: never) when a producer's liveness check saw it alive
// later, which becomes its heartbeat (last seen): one that hung, without polling, for longer
// than the grace was expired the moment it was killed, and its restart at once lost records.
// Returns true when it no longer holds producers back. Takes the table lock; throws Error when
// that fails.
bool release_dead_consumer(RingFile& file, std::uint32_t slot_index, const ProcessIdentity& owner,
                           std::uint64_t seen_alive_ns = 0);

// True when the slot is a named consumer, not attached by a live process and not holding
// producers back, that was last seen longer ago than its expire_after_ms (never when zero).
bool past_expiry(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept;

// A named consumer that detached holding producers back (block policy) goes on holding them at its
// cursor for the ring's grace period from its detach, as a dead one does from its last heartbeat:
// a consumer stopped cleanly and started again at once (a restart, a deploy) loses nothing, where
// before a crash kept what a clean stop gave up. Not past its expiry, where that is shorter.
bool detached_and_holding(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept;
// Either: a dead owner's slot within its grace, or a detached one within the grace since.
bool holding_without_owner(const RingFile& file, const format::ConsumerSlot& slot, std::uint64_t now_ns) noexcept;

// An operator's delete and reset (see ringfile/consumer_table.hpp). Take the table lock.
void delete_named_consumer(RingFile& file, const std::string& name);

// clear_damaged_slots (ringfile/consumer_table.hpp) on an open file, which may hold damaged slots
// (RingFile::SlotCheck::report_only): frees them under the table lock, unless `dry_run`.
std::vector<DamagedSlot> free_damaged_slots(RingFile& file, bool dry_run);
CursorReset reset_named_consumer(RingFile& file, const std::string& name, const Seek& target, bool dry_run);

}  // namespace ringfile::detail
