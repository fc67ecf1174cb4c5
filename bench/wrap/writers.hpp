// The writer kinds the wrap benchmark compares, behind one interface, and their registry by name.
//
// Adding a kind (the ringfile writer, say) takes one new .cpp file in this folder:
//   - a RingWriter (and a RingReader, for --readers) built on the library;
//   - a `const WriterKindRegistration register_<name>{{"<name>", "<summary>", create, open_writer,
//     open_reader, holds_writer_back, read_history}};` at namespace scope;
// and listing the file in wrap/CMakeLists.txt (with the library linked). The harness forks the
// processes, times the laps, samples the box and the page cache, and drops the cache between
// kinds; a kind only creates its ring file and moves bytes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "wrap/record_check.hpp"
#include "wrap/shared_counter.hpp"

namespace ringfile::bench::wrap {

// What every kind gets to set up one ring.
struct RingSetup {
  std::filesystem::path path;      // the ring's file: create_ring makes it, the harness deletes it
  std::uint64_t ring_bytes = 0;    // data capacity; one lap writes this many bytes
  std::uint64_t view_bytes = 0;    // for kinds that map the file in sliding views
  std::uint64_t record_bytes = 0;  // every record has this size
  bool readers = false;            // a reader follows this ring's writer (--readers)
  // Readers hand each record to RecordCheck with this many passes of work (--reader-work).
  std::uint64_t reader_work_passes = 0;
  // Readers start once their writer has published this many bytes of records (--reader-pause).
  std::uint64_t reader_pause_bytes = 0;
  // Records a reader takes per poll: about 1 MiB, so that it releases its writer as it goes.
  std::size_t records_per_poll = 1;
  // The ring is on tmpfs (the in-memory leg): kinds take what that filesystem supports.
  bool on_tmpfs = false;
  // The ringfile kinds: OpenOptions::view_bytes of the writer and reader, whether the producer
  // stamps (and the consumer checks) each payload's CRC32C, and CreateOptions::hold_window_bytes
  // (0: what fits in the memory budget; kHoldWindowWholeRing: the whole ring).
  std::uint64_t ringfile_view_bytes = 0;
  bool ringfile_checksum = true;
  std::uint64_t ringfile_hold_window_bytes = 0;
};

// Time a writer spent waiting for its reader, and the CPU it used meanwhile.
struct WaitTally {
  std::uint64_t waited_ns = 0;
  std::uint64_t waits = 0;
  // The waiting thread's CPU time during those waits; empty where the kind cannot tell it apart
  // from the copy made in the same call (Producer::write()).
  std::optional<std::uint64_t> cpu_ns = 0;
};

// Appends records one after another, wrapping at ring_bytes. Without readers it never waits.
// With readers nothing is lost: a kind whose ring holds writers back for readers
// (WriterKind::ring_holds_writer_back) waits inside write(); for the others the harness waits
// before calling write() until the reader has read what the record would overwrite.
// @pre one writer process per ring, one RingWriter in it.
class RingWriter {
 public:
  virtual ~RingWriter() = default;
  // Copies one record in. false: the ring cannot take it; error_message() says why.
  virtual bool write(std::span<const std::byte> record) noexcept = 0;
  virtual std::string error_message() const = 0;
  // Bytes the writer has advanced through the ring since it opened it; a lap ends each time
  // this passes another ring_bytes. For the plain-file kinds it is the records' bytes; a kind
  // that adds framing (ringfile: a 40-byte header per record, padding at the wrap) counts those
  // too, so that a lap is one pass over the whole file for every kind.
  virtual std::uint64_t ring_bytes_advanced() const noexcept = 0;
  // Waiting done inside write() (the harness's own waits are counted by the harness).
  virtual WaitTally waits_inside_write() const noexcept { return {}; }
};

// What a reader has done so far; the harness reports it per kind.
struct ReadProgress {
  std::uint64_t records_read = 0;        // checked: right stamp, right bytes
  std::uint64_t records_lost = 0;        // overwritten before the reader got to them
  std::uint64_t records_mismatched = 0;  // read intact-looking but with the wrong stamp or bytes
  std::uint64_t handled() const noexcept { return records_read + records_lost + records_mismatched; }
};

// The count of records a ring's writer has completed, which the harness publishes after each
// write. Kinds whose ring carries its own positions (ringfile) need not look at it.
class PublishedRecords {
 public:
  explicit PublishedRecords(SharedCounter& count) : count_(count) {}
  // A record's bytes are in the file's page cache before the count includes it (the counter's
  // load is an acquire, its advance a seq_cst store made after the write).
  std::uint64_t load() const noexcept { return count_.load(); }
  // Sleeps until more than `records` are published, or `timeout`.
  void wait_for_more_than(std::uint64_t records, std::chrono::nanoseconds timeout) const noexcept {
    count_.wait_for_at_least(records + 1, timeout);
  }

 private:
  SharedCounter& count_;
};

// Bytes a reader has not read yet, and how many of them the page cache holds.
struct UnreadBytes {
  std::uint64_t unread = 0;
  std::uint64_t cached = 0;
};

// The ringfile reader's view of the paging engine (Ring::paging_state, ConsumerInfo).
struct PagingSample {
  std::uint64_t hold_window_bytes = 0;
  std::uint64_t resident_budget_bytes = 0;  // 0: no engine runs on this ring (paging none)
  std::uint64_t memory_bytes = 0;           // what the budget was derived from
  std::uint64_t rings_sharing = 0;
  std::uint64_t polls = 0;                  // polls that handed over records ...
  std::uint64_t polls_not_following = 0;    // ... after which it was not marked following
  std::uint64_t polls_replaying = 0;        // ... after which it was marked replaying
};

// Follows one ring's writer, reading and checking each record the writer completes.
// @pre one reader process per ring, one RingReader in it.
class RingReader {
 public:
  virtual ~RingReader() = default;
  // Reads up to RingSetup::records_per_poll records. Returns how many; 0 if nothing was new.
  virtual std::size_t poll(const PublishedRecords& published, ReadProgress& progress) noexcept = 0;
  // Sleeps until there may be more to read, at most `timeout`; never spins.
  virtual void wait(const PublishedRecords& published, std::uint64_t records_handled,
                    std::chrono::nanoseconds timeout) noexcept {
    published.wait_for_more_than(records_handled, timeout);
  }
  // What the writer has written that this reader has not read, and how much of it is cached.
  virtual std::optional<UnreadBytes> unread_bytes(const PublishedRecords& published) const noexcept = 0;
  // --reader-pause: called as the reader resumes. From here on a reader that can tell counts the
  // bytes that were cached now and are dropped before it reads them (spill_tracker.hpp).
  virtual void start_counting_spills() noexcept {}
  virtual std::uint64_t spilled_since_resume() const noexcept { return 0; }
  virtual std::optional<PagingSample> paging_sample() const noexcept { return std::nullopt; }
  // Non-empty once the reader has met something it cannot read past (a corrupt frame); the
  // harness then stops the reader and reports it.
  virtual std::string error_message() const { return {}; }
};

// A ring's history read from its oldest record to its head, no writer running.
struct HistoryRead {
  std::uint64_t records_read = 0;  // checked
  std::uint64_t records_mismatched = 0;
  std::uint64_t ring_bytes = 0;    // how far through the ring it went (frames included)
  std::string error;
};

struct WriterKind {
  std::string_view name;
  std::string_view summary;
  // Creates the ring file at setup.path with every block reserved (fallocate mode 0), so that
  // write-back can never meet ENOSPC. Returns what the report should say about the ring as made
  // ("paging none"), or "". Throws programs::RuntimeFailure.
  std::string (*create_ring)(const RingSetup& setup);
  // Called in the writer's (reader's) own process after fork. Throw programs::RuntimeFailure.
  std::unique_ptr<RingWriter> (*open_writer)(const RingSetup& setup);
  std::unique_ptr<RingReader> (*open_reader)(const RingSetup& setup);
  // true: the ring itself holds its writer back for its reader (ringfile: block policy);
  // false: the harness does it.
  bool ring_holds_writer_back = false;
  // Called in a child process after the laps: reads the ring's history, checking each record
  // with `check`. nullptr: the kind has no reader for history (the baselines).
  HistoryRead (*read_history)(const RingSetup& setup, RecordCheck& check) = nullptr;
  // Called in the parent when the kind's run is over, before its rings are removed: closes what
  // create_ring kept open. nullptr: create_ring keeps nothing open.
  void (*release_rings)() = nullptr;
};

// Every kind, in the default order of --kinds (so the first is the default --baseline);
// --kinds picks and orders them.
std::span<const WriterKind> writer_kinds();
const WriterKind* find_writer_kind(std::string_view name);

// One per kind; the baselines' in their own files, ringfile's in ringfile_writer.cpp.
extern const WriterKind kNaiveKind;
extern const WriterKind kPwriteKind;
extern const WriterKind kRingfileZeroRangeKind;
extern const WriterKind kRingfileZeroRangeWriteKind;
extern const WriterKind kRingfilePunchHoleKind;
extern const WriterKind kRingfilePrefetchKind;
extern const WriterKind kRingfileNoneKind;
extern const WriterKind kRingfileAutoKind;
extern const WriterKind kRingfileAutoWriteKind;

}  // namespace ringfile::bench::wrap
