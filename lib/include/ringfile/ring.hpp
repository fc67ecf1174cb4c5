// A ring file: creation, opening, validation and read-only inspection.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ringfile/options.hpp"

namespace ringfile {

namespace detail {
class RingFile;
struct RingAccess;
}

struct RingInfo {
  std::filesystem::path path;
  std::uint16_t version_major = 0;
  std::uint16_t version_minor = 0;
  std::uint64_t capacity_bytes = 0;
  std::uint64_t data_offset = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t creation_time_ns = 0;
  WriterPolicy policy = WriterPolicy::block;
  std::uint32_t max_record_bytes = 0;
  std::chrono::milliseconds unblock_timeout{0};
  std::chrono::milliseconds consumer_grace{0};
  std::uint64_t view_bytes = 0;  // of this process's views
  PagingStrategy paging = PagingStrategy::none;  // chosen at creation for the file's filesystem
  // As chosen at creation: 0 automatic (what fits in memory), capacity_bytes the whole ring.
  std::uint64_t hold_window_bytes = 0;
};

// What the paging engine is doing with a ring, as the producers last published it.
struct PagingState {
  std::uint64_t resident_budget_bytes = 0;  // 0: no producer has run the engine yet
  std::uint64_t hold_window_bytes = 0;      // in force now (block policy)
  std::uint64_t memory_bytes = 0;           // what the budget was derived from
  std::uint64_t rings_sharing = 0;          // ... shared among this many rings
  std::uint64_t whole_rings_bytes = 0;      // ... less this, first, for rings kept whole
  std::uint64_t prepared_position = 0;      // invalidated ahead up to here
  std::uint64_t released_position = 0;      // dropped from memory below here
};

// A snapshot of one consumer slot.
struct ConsumerInfo {
  std::uint32_t slot = 0;
  std::string name;  // empty: anonymous
  std::uint64_t pid = 0;
  bool alive = false;     // owner process exists (pid and start time match)
  bool detached = false;  // named consumer with no owner
  // Block policy: producers wait for its cursor (attached or dead: by its flags; detached: for the
  // ring's grace period from its detach).
  bool holds_back = false;
  bool expired = false;   // dead or detached past the grace period: no longer holds back
  // Named: not attached for longer than expire_after since last seen (zero: never expires); it
  // no longer counts, and its slot may be taken by another consumer.
  std::chrono::milliseconds expire_after{0};
  bool past_expiry = false;
  // Block policy: within the hold window of the head, producers stay within it (paced).
  bool following = false;
  // Its next records are no longer in memory (below the release frontier): it reads them from
  // disk, ahead of itself in large requests, and drops them once read.
  bool replaying = false;
  std::uint64_t cursor = 0;
  std::uint64_t heartbeat_ns = 0;  // last seen: its last poll or wait, or its detach
  // Records read, over every attachment of a named consumer, as of its last commit. A consumer
  // that commits a position behind what it has read (Consumer::commit(position), auto_commit
  // off) has those read past it counted too, and counted again when it reads them again after
  // a restart: the file keeps no record count for every position, only this running total.
  std::uint64_t consumed_records = 0;
  std::uint64_t lost_bytes = 0;
  std::uint64_t lost_records = 0;
};

// A snapshot of one producer slot.
struct ProducerInfo {
  std::uint32_t slot = 0;
  std::uint64_t pid = 0;
  bool alive = false;
  std::uint64_t committed_records = 0;
  std::uint64_t committed_bytes = 0;
  std::uint64_t open_claim_start = 0;  // open_claim_start == open_claim_end: none
  std::uint64_t open_claim_end = 0;
  std::uint64_t open_claim_time_ns = 0;
  // Waiting for space: since when (CLOCK_REALTIME; 0 when not waiting), and for what: a holding
  // consumer that has not read what would be overwritten, another producer still filling a claim
  // a lap behind, or the paging engine preparing the old lap ahead of the head (write-back
  // behind, or holding consumers, are slower than producers).
  std::uint64_t waiting_since_ns = 0;
  std::optional<std::uint32_t> waiting_for_consumer;  // its slot
  bool waiting_for_open_claim = false;
  bool waiting_for_preparation = false;
  std::uint64_t waited_ns = 0;  // time the current owner has waited for space, in total
};

// The header of a committed record, read at a frame boundary.
struct RecordMeta {
  std::uint64_t position = 0;
  std::uint64_t timestamp_ns = 0;
  std::uint32_t payload_bytes = 0;
};

// A handle on an open ring file. Cheap to copy; producers and consumers keep one. A moved-from
// Ring has no file: it may only be assigned to or destroyed (a Producer, a Consumer or the
// consumer table given one throws Error, invalid_argument).
class Ring {
 public:
  // Creates a new ring file, all of its blocks reserved. Throws Error (exists, no_space, ...).
  static Ring create(const std::filesystem::path& path, const CreateOptions& create_options,
                     const OpenOptions& open_options = {});
  // Opens and validates an existing ring file. Throws Error (not_found, not_a_ring, ...).
  static Ring open(const std::filesystem::path& path, const OpenOptions& open_options = {});

  const RingInfo& info() const noexcept;
  // Next position to be reserved by a producer (committed or not below it).
  std::uint64_t head_position() const noexcept;
  // Records committed to the ring since it was created, by every producer (the sum of the
  // producer slots' sequence numbers, which go on across owners). With head_position(), the
  // average bytes of the ring a record took.
  std::uint64_t records_written() const noexcept;
  std::vector<ConsumerInfo> consumers() const;
  std::vector<ProducerInfo> producers() const;
  // The committed record starting at `position`, if the data there still holds it.
  std::optional<RecordMeta> record_at(std::uint64_t position) const;
  // The record a consumer whose cursor is at `position` reads next, if committed: padding frames
  // on the way (after a write_batch group that ends on a cache line, at a lap's end, an aborted
  // claim) are stepped over, a few at most, up to the head. A cursor stands on such padding
  // after the last record of a group.
  std::optional<RecordMeta> first_record_from(std::uint64_t position) const;
  // Bytes of the ring file in the page cache, and how many of them are dirty where the kernel
  // says (cachestat(2)); dirty is nullopt when only mincore(2) is available.
  struct Residency {
    std::uint64_t resident_bytes = 0;
    std::optional<std::uint64_t> dirty_bytes;
  };
  Residency residency() const;
  PagingState paging_state() const noexcept;
  // Whether the ring's path still names the file this handle has open: false once that file was
  // removed, or another put in its place (a ring deleted and created again), while the handle
  // goes on reading the old file. One stat(2) of the path; a program that follows a path (a
  // monitor) opens it again on false.
  bool path_names_this_file() const noexcept;
  // Whether the open file `fd` is the file this handle has open (the same device and inode,
  // whatever its path names now): a program refuses to read records from, or write them into,
  // the ring itself.
  bool is_open_as(int fd) const noexcept;

 private:
  // The file behind the handle, for the library's own classes and its white-box tests only.
  friend struct detail::RingAccess;
  explicit Ring(std::shared_ptr<detail::RingFile> file) : file_(std::move(file)) {}
  std::shared_ptr<detail::RingFile> file_;
};

}  // namespace ringfile
