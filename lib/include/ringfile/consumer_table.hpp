// The consumer table seen from outside its consumers, as an operator uses it (ringfile-consumer
// --delete, --reset): removing a named consumer that is gone, and moving the saved cursor of one
// that is not attached. Ring::consumers() lists the table.
//
// Both take the ring's table lock, so they are safe against consumers attaching and producers
// reclaiming slots at the same time, and both refuse a consumer attached by a live process (its
// cursor is its own). Set-up calls: they throw Error and never run on a hot path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "ringfile/ring.hpp"
#include "ringfile/seek.hpp"

namespace ringfile {

// What a reset did, or would do (dry run).
struct CursorReset {
  std::uint64_t from = 0;  // the saved cursor before
  std::uint64_t to = 0;    // the saved cursor after
  std::uint64_t head = 0;  // the head when the target was found
  bool applied = false;    // false for a dry run
  // The consumer's process died, or it detached, within its grace period, so the slot still holds
  // producers back (block policy): producers do not overwrite what `to` points at until the grace
  // period ends. One detached longer ago holds nobody back until it attaches again; what producers
  // overwrite meanwhile it reports as lost then.
  bool holds_back = false;
  // Producers had already reserved past the target (block policy, a holding slot moved back):
  // `to` is the oldest record still intact instead.
  bool moved_past_overwritten = false;
};

// Moves the saved cursor of the named consumer to `target`; with `dry_run`, only says where.
// Throws Error: not_found (no consumer has that name), busy (attached by a live process),
// invalid_argument (a position that is not a record boundary or not in the ring), read-only ring.
CursorReset reset_consumer(const Ring& ring, const std::string& name, const Seek& target, bool dry_run = false);

// Frees the slot of the named consumer: its saved cursor and counters are gone, it holds
// producers back no longer, and the name may be used afresh. Throws Error: not_found, busy.
void delete_consumer(const Ring& ring, const std::string& name);

// A consumer or producer slot holding what no library writes (a damaged or forged header): an
// unknown state, a cursor off the 8-byte grid, a name without its terminating NUL. Ring::open
// refuses a ring with one, naming it, since nothing it says can be trusted.
struct DamagedSlot {
  bool producer = false;  // else a consumer slot
  std::uint32_t index = 0;
  std::string problem;
  // Not 0: the process the slot names as its owner is alive (it had the ring open before the
  // damage, and still writes the slot). Such a slot is left as it is: stop that process first.
  std::uint64_t live_owner_pid = 0;
};

// Frees every damaged slot of the ring at `path` whose owner is not alive, under the table lock,
// so that the ring opens again: a damaged consumer slot's name, cursor and counts are gone (it
// holds producers back no longer); a damaged producer slot's open claim is padded over where it
// is one a producer can have made (as any dead producer's is), then forgotten. The records are
// not touched. With `dry_run`, only lists them. Returns the slots it found, those left alone
// with their live owner's pid. Throws Error as Ring::open does for anything else wrong with the
// file, and permission_denied where it may not be written.
std::vector<DamagedSlot> clear_damaged_slots(const std::filesystem::path& path, bool dry_run = false);

}  // namespace ringfile
