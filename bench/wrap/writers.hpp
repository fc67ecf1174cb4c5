// The writer kinds the wrap benchmark compares, behind one interface, and their registry by name.
//
// Adding a kind (the ringfile writer, say) takes one new .cpp file in this folder:
//   - a RingWriter (and a RingReader, for --readers) built on the library;
//   - a `const WriterKindRegistration register_<name>{{"<name>", "<summary>", create, open_writer,
//     open_reader}};` at namespace scope;
// and listing the file in wrap/CMakeLists.txt (with the library linked). The harness forks the
// processes, times the laps, samples the box and the page cache, and drops the cache between
// kinds; a kind only creates its ring file and moves bytes.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringfile::bench::wrap {

// What every kind gets to set up one ring.
struct RingSetup {
  std::filesystem::path path;      // the ring's file: create_ring makes it, the harness deletes it
  std::uint64_t ring_bytes = 0;    // data capacity; one lap writes this many bytes
  std::uint64_t view_bytes = 0;    // for kinds that map the file in sliding views
  std::uint64_t record_bytes = 0;  // every record has this size
  bool readers = false;            // a reader follows this ring's writer (--readers)
  // The ringfile kinds: OpenOptions::view_bytes of the writer and reader, and whether the
  // producer stamps (and the consumer checks) each payload's CRC32C.
  std::uint64_t ringfile_view_bytes = 0;
  bool ringfile_checksum = true;
  // Write each record with Producer::write() (the copying call) instead of claim + memcpy +
  // commit in place; the same bytes either way.
  bool ringfile_copy_api = false;
};

// Appends records one after another, wrapping at ring_bytes; never waits for readers (the
// motivating workload overwrites; a reader that falls a lap behind loses records).
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
};

// What a reader has done so far; the harness reports it per kind.
struct ReadProgress {
  std::uint64_t records_read = 0;
  std::uint64_t records_lost = 0;        // overwritten before the reader got to them
  std::uint64_t records_mismatched = 0;  // read intact-looking but with the wrong sequence stamp
};

// The count of records a ring's writer has completed, which the harness publishes after each
// write. Kinds whose ring carries its own positions (ringfile) need not look at it.
class PublishedRecords {
 public:
  explicit PublishedRecords(const std::atomic<std::uint64_t>& count) : count_(count) {}
  // Acquire pairs with the harness's release store after each write: a record's bytes are in the
  // file's page cache before the count includes it.
  std::uint64_t load() const noexcept { return count_.load(std::memory_order_acquire); }

 private:
  const std::atomic<std::uint64_t>& count_;
};

// Follows one ring's writer closely, reading each record the writer completes.
// @pre one reader process per ring, one RingReader in it.
class RingReader {
 public:
  virtual ~RingReader() = default;
  // Reads records completed so far. Returns how many this call read; 0 if nothing was new.
  virtual std::size_t poll(const PublishedRecords& published, ReadProgress& progress) noexcept = 0;
  // Non-empty once the reader has met something it cannot read past (a corrupt frame); the
  // harness then stops the reader and reports it.
  virtual std::string error_message() const { return {}; }
};

struct WriterKind {
  std::string_view name;
  std::string_view summary;
  // Creates the ring file at setup.path with every block reserved (fallocate mode 0), so that
  // write-back can never meet ENOSPC. Throws SetupError.
  void (*create_ring)(const RingSetup& setup);
  // Called in the writer's (reader's) own process after fork. Throw SetupError.
  std::unique_ptr<RingWriter> (*open_writer)(const RingSetup& setup);
  std::unique_ptr<RingReader> (*open_reader)(const RingSetup& setup);
};

// Kinds in the order their files registered (link order); --kinds picks and orders them.
const std::vector<WriterKind>& writer_kinds();
const WriterKind* find_writer_kind(std::string_view name);

// Registers a kind during static initialisation; one per kind file. The kind files are compiled
// into the executable itself (not a static library, where an unreferenced object file and its
// registration would be dropped by the linker).
struct WriterKindRegistration {
  explicit WriterKindRegistration(const WriterKind& kind);
};

}  // namespace ringfile::bench::wrap
