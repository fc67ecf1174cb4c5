// The header segment at the start of every ring file.
//
//   file offset
//   0        +-------------------------------------------------------------+
//            | FileIdentity (128 B, immutable after creation, CRC-checked) |
//            |   magic "RINGFILE", version major.minor, sizes, policy,     |
//            |   limits, lap-tag salt, identity_crc32c                     |
//   128      +-------------------------------------------------------------+
//            | head_position        (one 64 B line)  producers CAS         |
//   192      | producer_limit       (one 64 B line)  block policy cache    |
//   256      | data_futex/waiters   (one 64 B line)  consumers sleep here  |
//   320      | space_futex/waiters  (one 64 B line)  producers sleep here  |
//   384      | prepared_position    (one 64 B line)  paging: ready ahead   |
//   448      | released_position    (one 64 B line)  paging: dropped behind|
//   512      | preparation          (one 64 B line)  paging: in progress   |
//   576      | paging_budget        (one 64 B line)  paging: memory, window|
//   640      | reserved lines                                              |
//   1024     +-------------------------------------------------------------+
//            | producer table: 64 x ProducerSlot (128 B each)              |
//   9216     +-------------------------------------------------------------+
//            | consumer table: 64 x ConsumerSlot (128 B each)              |
//   17408    +-------------------------------------------------------------+
//            | reserved, zero                                              |
//   65536    +-------------------------------------------------------------+
//            | data area: data_capacity bytes of record frames             |
//            +-------------------------------------------------------------+
//
// Positions are monotonic 64-bit byte counts that never wrap; a position's byte lives at
// data_offset + position % data_capacity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ringfile/format/consumer_slot.hpp"
#include "ringfile/format/layout.hpp"
#include "ringfile/format/producer_slot.hpp"

namespace ringfile::format {

inline constexpr char kMagic[8] = {'R', 'I', 'N', 'G', 'F', 'I', 'L', 'E'};
// Readers refuse a major version they do not know; a newer minor version only adds fields in
// reserved space, so it stays readable.
// Major 2 says in each data frame's commit word whether the frame is checksummed
// (kChecksummedFlag, record_header.hpp); in major 1 a zero payload_crc32c meant "not checksummed",
// which a torn header could fake after a crash of the machine. A build of major 1 would take the
// flag for an unknown frame type, and one of major 2 would take version 1's checksummed records
// for unchecked ones: each refuses the other's files.
// Major 3 adds the group frame (record_header.hpp), several records under one header, which a
// build of major 2 would take for an unknown frame type: it refuses files of major 3. A build of
// major 3 reads and writes files of major 2 as well, writing no group frames into them.
inline constexpr std::uint16_t kVersionMajor = 3;
inline constexpr std::uint16_t kOldestVersionMajor = 2;
// Minor 1 of major 1 added, in reserved space: FileIdentity::hold_window_bytes and
// FileHeader::paging_budget (paging), ConsumerSlot::expire_after_ms, ProducerSlot::wait_state and
// ProducerSlot::waited_ns; all are part of major 2.
// Minor 1 of major 2 added, in reserved space: FileHeader::session and RecordHeader::generation
// (consumers read records past the head they last loaded). Zero in a 2.0 file or frame: no
// session recorded yet (the next writable open starts one), and a frame that is never read past
// the head. Both are part of major 3.
inline constexpr std::uint16_t kVersionMinor = 1;

inline constexpr std::uint32_t kProducerSlotCount = 64;
inline constexpr std::uint32_t kConsumerSlotCount = 64;
inline constexpr std::uint64_t kHeaderSegmentBytes = 65536;

enum class WriterPolicyCode : std::uint8_t {
  block = 1,      // producers never overwrite what a holding consumer has not read
  overwrite = 2,  // producers never wait; lapped consumers skip and report their loss
};

// How the old lap's bytes ahead of the head are invalidated (see lib/src/paging.hpp). Chosen at
// creation, where the filesystem is known, so that every process uses the same protocol.
enum class PagingStrategyCode : std::uint8_t {
  none = 0,           // no invalidation and no preparation frontier (tmpfs, small rings)
  zero_range = 1,
  punch_hole = 2,
  prefetch_only = 3,
};

// Written once by the creator before the file becomes visible under its name.
struct FileIdentity {
  char magic[8];
  std::uint16_t version_major;
  std::uint16_t version_minor;
  std::uint32_t header_bytes;          // kHeaderSegmentBytes
  std::uint64_t data_offset;           // file offset of position 0
  std::uint64_t data_capacity;         // bytes in the data area, multiple of kPageBytes
  std::uint64_t creation_time_ns;      // CLOCK_REALTIME
  std::uint32_t max_record_bytes;      // largest payload a producer may claim
  std::uint8_t writer_policy;          // WriterPolicyCode
  std::uint8_t paging_strategy;        // PagingStrategyCode, chosen for the file's filesystem
  std::uint8_t reserved_a[2];
  std::uint32_t producer_slot_count;   // kProducerSlotCount
  std::uint32_t consumer_slot_count;   // kConsumerSlotCount
  std::uint32_t unblock_timeout_ms;    // an open claim older than this is padded over
  std::uint32_t consumer_grace_ms;     // a dead named consumer holds back this long
  std::uint32_t lap_tag_salt;          // mixed into every frame's lap tag
  std::uint32_t reserved_c;
  // Block policy: how far producers may run ahead of a consumer that follows them (see
  // PagingBudgetLine). 0: what fits in memory, decided at run time; data_capacity: the whole ring.
  std::uint64_t hold_window_bytes;
  std::uint8_t reserved_b[44];
  std::uint32_t identity_crc32c;       // CRC32C of the bytes before this field
};
static_assert(std::is_trivially_copyable_v<FileIdentity>);
static_assert(sizeof(FileIdentity) == 2 * kCacheLineBytes);
static_assert(offsetof(FileIdentity, data_capacity) == 24);
static_assert(offsetof(FileIdentity, max_record_bytes) == 40);
static_assert(offsetof(FileIdentity, paging_strategy) == 45);
static_assert(offsetof(FileIdentity, lap_tag_salt) == 64);
static_assert(offsetof(FileIdentity, hold_window_bytes) == 72);
static_assert(offsetof(FileIdentity, identity_crc32c) == 124);

// The paging engine invalidates the old lap's bytes ahead of the head one chunk at a time. A
// preparer takes the lock by CAS of owner_word from 0 to its identity (pid << 32 | low 32 bits of
// its start time, so a preparation left by a dead process can be taken over), publishes
// preparing_end, invalidates [prepared_position, preparing_end), then publishes
// prepared_position = preparing_end and releases the lock. Producers never reserve past
// prepared_position; readers treat data below preparing_end - capacity as gone.
struct alignas(kCacheLineBytes) PreparationLine {
  std::uint64_t owner_word;     // 0: no preparation in progress
  std::uint64_t preparing_end;  // <= prepared_position when nothing is in flight
  std::uint8_t padding[kCacheLineBytes - 2 * sizeof(std::uint64_t)];
};
static_assert(sizeof(PreparationLine) == kCacheLineBytes);

// What the paging engine may keep of this ring in the page cache, published by the producers'
// housekeeping threads (each recomputes it from the memory its process may use, shared among the
// rings open on the machine; the last one to publish wins, and all of them see the same memory
// on one machine). Advisory: it steers memory and pacing, never correctness. Zero before any
// producer has published.
//
// resident_budget_bytes: the ring's pages in the page cache stay within it; preparation ahead of
//   the head never runs further than this past the release frontier.
// hold_window_bytes: block policy, the hold window in force: producers never run further than
//   this ahead of a holding consumer that follows (ConsumerFlags::kConsumerFollowing), so what it
//   has not read stays in memory. At most data_capacity.
// memory_bytes, rings_sharing, whole_rings_bytes: what the budget was derived from, for
//   ringfile-status: the memory, the rings the engine works on that share it, and what came off
//   it first for the rings on disk kept whole in memory (version 3.1; zero in a 3.0 file).
struct alignas(kCacheLineBytes) PagingBudgetLine {
  std::uint64_t resident_budget_bytes;
  std::uint64_t hold_window_bytes;
  std::uint64_t memory_bytes;
  std::uint64_t rings_sharing;
  std::uint64_t whole_rings_bytes;
  std::uint8_t padding[kCacheLineBytes - 5 * sizeof(std::uint64_t)];
};
static_assert(sizeof(PagingBudgetLine) == kCacheLineBytes);

// One word and its padding to a full cache line.
struct alignas(kCacheLineBytes) PositionLine {
  std::uint64_t value;
  std::uint8_t padding[kCacheLineBytes - sizeof(std::uint64_t)];
};
static_assert(sizeof(PositionLine) == kCacheLineBytes);

// A futex word and a count of sleepers, so that wakers make the syscall only when needed.
struct alignas(kCacheLineBytes) WaitLine {
  std::uint32_t futex_word;  // bumped before every wake
  std::uint32_t sleepers;    // processes inside futex_wait on futex_word
  std::uint8_t padding[kCacheLineBytes - 2 * sizeof(std::uint32_t)];
};
static_assert(sizeof(WaitLine) == kCacheLineBytes);

// Who wrote the data area last, so that frames a crash of the machine left past the header's head
// are never read as new records. A consumer may read a committed frame past the head it last
// loaded (one cache line fewer to share with producers per record) only when the frame carries the
// ring's current generation (RecordHeader::generation). A writable open that finds a session key
// other than its own (a new boot, or the file copied or restored: another inode or birth time)
// starts a new generation and makes it durable before any frame of it is written; only then does
// it store its key. Frames of every earlier session, wherever the head stood when the machine went
// down, carry another generation, and past the head they are read only once the head covers them.
//
// session_key: a hash of the boot id and the file's device, inode and birth time; 0 = no session
//   yet (a 2.0 file).
// generation: bumped by each new session; frame_generation() of it (1 to 65535, repeating only
//   every 65535 sessions) goes into every frame.
struct alignas(kCacheLineBytes) SessionLine {
  std::uint64_t session_key;
  std::uint64_t generation;
  std::uint8_t padding[kCacheLineBytes - 2 * sizeof(std::uint64_t)];
};
static_assert(sizeof(SessionLine) == kCacheLineBytes);

// The 16 bits of a generation that frames carry; 0 is never one (2.0 frames and zeroed space).
constexpr std::uint16_t frame_generation(std::uint64_t generation) noexcept {
  return static_cast<std::uint16_t>(generation % 0xFFFF + 1);
}
static_assert(frame_generation(0) == 1 && frame_generation(0xFFFE) == 0xFFFF && frame_generation(0xFFFF) == 1);

struct FileHeader {
  FileIdentity identity;
  // Next position to be reserved; every byte below it belongs to a frame (committed, padding or
  // open claim). Producers advance it with compare-and-swap.
  PositionLine head_position;
  // Block policy: producers may reserve up to this position without rescanning consumers.
  PositionLine producer_limit;
  WaitLine data_wait;   // consumers wait for records
  WaitLine space_wait;  // producers wait for consumers (block policy)
  // Paging engine: the old lap's bytes are invalidated up to this position; producers never
  // reserve beyond it.
  PositionLine prepared_position;
  // Paging engine: pages behind the following consumers are dropped up to this position.
  PositionLine released_position;
  PreparationLine preparation;
  PagingBudgetLine paging_budget;
  SessionLine session;
  std::uint8_t reserved_lines[5 * kCacheLineBytes];
  ProducerSlot producers[kProducerSlotCount];
  ConsumerSlot consumers[kConsumerSlotCount];
};
static_assert(std::is_trivially_copyable_v<FileHeader>);
static_assert(offsetof(FileHeader, head_position) == 128);
static_assert(offsetof(FileHeader, producer_limit) == 192);
static_assert(offsetof(FileHeader, data_wait) == 256);
static_assert(offsetof(FileHeader, space_wait) == 320);
static_assert(offsetof(FileHeader, prepared_position) == 384);
static_assert(offsetof(FileHeader, released_position) == 448);
static_assert(offsetof(FileHeader, preparation) == 512);
static_assert(offsetof(FileHeader, paging_budget) == 576);
static_assert(offsetof(FileHeader, session) == 640);
static_assert(offsetof(FileHeader, producers) == 1024);
static_assert(offsetof(FileHeader, consumers) == 9216);
static_assert(sizeof(FileHeader) == 17408);
static_assert(sizeof(FileHeader) <= kHeaderSegmentBytes);
static_assert(kHeaderSegmentBytes % kPageBytes == 0);

}  // namespace ringfile::format
