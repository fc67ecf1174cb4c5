// The state file of `ringfile-bridge in`: the stream sequence of the last message its ring holds,
// kept so that a message delivered again after a crash between the ring commit and the
// acknowledgement is recognised and not written twice.
//
// The ring itself is the judge. Before a record is committed, its stream sequence and the
// position its claim got in the ring are written here; after the commit, the sequence is marked
// written. After a crash in between, Ring::record_at(position) says whether the record was
// committed: positions never repeat, and a claim its dead producer left open is never committed
// (consumers pad it over), so the answer is final. Only a ring overwritten a whole lap since the
// crash cannot answer; then the message is written again, and a notice says so.
//
//   0   +---------------------------------------------------+
//       | magic u64 "RFBRIDGI"                              |
//   8   | version u32               | reserved u32          |
//   16  | ring_identity u64 (RingInfo::creation_time_ns)    |  the ring this state is about
//   24  | written_sequence u64                              |  last stream sequence in the ring
//   32  | pending_sequence u64                              |  being written when > written
//   40  | pending_position u64                              |  the position of its claim
//   48  | pending_bytes u64                                 |  its payload size
//   56  | stream_creation_time_ns u64 (0: not known yet)    |  the stream it was fed from
//   64  +---------------------------------------------------+
//
// One process at a time (an exclusive flock): a second bridge for the same ring and durable is
// refused. The lock is on the file the path names once it is taken: a bridge removes a state file
// it has just created when its ring cannot be created (remove_if_created), and another that opened
// the file by its name meanwhile opens it again. Stores go through the page cache, like the ring's
// own: they survive a crash of any process, as the ring does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <type_traits>

#include "ringfile/ring.hpp"

namespace ringfile::bridge {

struct JournalLayout {
  std::uint64_t magic;
  std::uint32_t version;
  std::uint32_t reserved;
  std::uint64_t ring_identity;
  std::uint64_t written_sequence;
  std::uint64_t pending_sequence;
  std::uint64_t pending_position;
  std::uint64_t pending_bytes;
  std::uint64_t stream_creation_time_ns;
};
static_assert(std::is_trivially_copyable_v<JournalLayout>);
static_assert(sizeof(JournalLayout) == 64);
static_assert(offsetof(JournalLayout, ring_identity) == 16);
static_assert(offsetof(JournalLayout, written_sequence) == 24);
static_assert(offsetof(JournalLayout, pending_sequence) == 32);
static_assert(offsetof(JournalLayout, pending_position) == 40);
static_assert(offsetof(JournalLayout, pending_bytes) == 48);
static_assert(offsetof(JournalLayout, stream_creation_time_ns) == 56);

inline constexpr std::uint64_t kJournalMagic = 0x4947445249524652ULL;  // "RFBRIDGI" little-endian
inline constexpr std::uint32_t kJournalVersion = 1;
inline constexpr std::size_t kJournalFileBytes = 4096;

// What opening the journal found.
struct JournalRecovery {
  std::uint64_t written = 0;        // the last stream sequence the ring holds
  bool new_ring = false;            // the state was about another ring (or none): starts afresh
  bool interrupted = false;         // a write was under way at the crash
  bool interrupted_written = false; // ... and its record was committed
  bool undecidable = false;         // ... and the ring was overwritten since: written again
  std::uint64_t interrupted_sequence = 0;
};

// @pre one thread.
class WriteJournal {
 public:
  // Opens or creates the file and locks it; which ring it is about, recover() decides. Throws
  // RuntimeFailure (locked by another bridge, not a state file, cannot be created).
  // `between_open_and_lock`, for tests, runs after each open of the path and before its lock: the
  // moment at which another bridge may remove the file it created (open_and_lock), which no run
  // of two processes hits reliably.
  explicit WriteJournal(const std::filesystem::path& path, const std::function<void()>& between_open_and_lock = {});
  ~WriteJournal();
  WriteJournal(const WriteJournal&) = delete;
  WriteJournal& operator=(const WriteJournal&) = delete;

  // Decides a write the last owner left under way, against the ring; a state about another ring
  // starts afresh for this one. Throws RuntimeFailure for a file whose sequences no stream reaches
  // (damaged).
  JournalRecovery recover(const Ring& ring);

  // Removes the file if this object created it, for a run that ends before its ring exists (the
  // ring could not be created). @pre recover() not called: nothing is recorded in it yet.
  void remove_if_created() noexcept;

  // The creation time of the stream the ring's messages came from (StreamFacts), 0 where no
  // bridge has noted it yet (a new state, or one written before it was kept).
  std::uint64_t stream_creation_time() const noexcept;
  void note_stream_creation_time(std::uint64_t creation_time_ns) noexcept;

  std::uint64_t written() const noexcept;
  // Around each record: begin() once its claim is open, complete() once it is committed.
  void begin(std::uint64_t sequence, std::uint64_t position, std::uint64_t payload_bytes) noexcept;
  void complete(std::uint64_t sequence) noexcept;

 private:
  // Opens the file, creating it if absent, and locks it, until the path names the locked file.
  void open_and_lock(const std::string& name, const std::function<void()>& between_open_and_lock);
  // Closes the file, removing it if this object created it, and throws RuntimeFailure(message).
  [[noreturn]] void give_up(const std::string& message);

  std::filesystem::path path_;
  int fd_ = -1;
  bool created_ = false;  // by this object: no other process has used it
  JournalLayout* layout_ = nullptr;
};

}  // namespace ringfile::bridge
