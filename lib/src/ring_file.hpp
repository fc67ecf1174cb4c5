// The open ring file of one process: descriptor, header mapping, validated geometry and the lock
// that serialises changes to the slot tables. Shared by the process's producers and consumers.
#pragma once

#include <sys/types.h>

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "ring_registry.hpp"
#include "ringfile/consumer_table.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/options.hpp"
#include "ringfile/ring.hpp"

namespace ringfile::detail {

// The numbers every frame computation needs, copied out of the validated identity.
struct Geometry {
  std::uint64_t capacity = 0;
  std::uint64_t max_record_bytes = 0;
  std::uint64_t max_frame_stride = 0;  // stride of a maximum-size record
  // The most bytes a group frame (format version 3) may span, claim padding included; 0 in a file
  // that takes none. A consumer's cursor may stand at a record inside a group, up to this far
  // past the group's header, which it must read to resume there: producers keep that far behind
  // every cursor (kept_from_cursor), and groups are no longer.
  std::uint64_t group_span = 0;
  std::uint32_t lap_tag_salt = 0;

  // capacity - 1 when the capacity is a power of two (set_capacity), else 0. Then a position
  // splits into lap and offset by a mask and a shift, not a 64-bit division: a consumer that
  // keeps up divided several times a record.
  std::uint64_t offset_mask = 0;
  unsigned lap_shift = 0;

  void set_capacity(std::uint64_t bytes) noexcept {
    capacity = bytes;
    const bool power_of_two = bytes != 0 && (bytes & (bytes - 1)) == 0;
    offset_mask = power_of_two ? bytes - 1 : 0;
    lap_shift = power_of_two ? static_cast<unsigned>(__builtin_ctzll(bytes)) : 0;
  }
  std::uint64_t offset_of(std::uint64_t position) const noexcept {
    return offset_mask != 0 ? position & offset_mask : position % capacity;
  }
  std::uint64_t lap_of(std::uint64_t position) const noexcept {
    return offset_mask != 0 ? position >> lap_shift : position / capacity;
  }
  std::uint64_t lap_end(std::uint64_t position) const noexcept { return (lap_of(position) + 1) * capacity; }
  std::uint32_t tag_of(std::uint64_t position) const noexcept {
    return format::lap_tag_of_lap(lap_of(position), lap_tag_salt);
  }
};

class RingFile {
 public:
  static std::shared_ptr<RingFile> create(const std::filesystem::path& path,
                                          const CreateOptions& create_options,
                                          const OpenOptions& open_options);
  // Whether open() refuses a ring with a damaged slot (Ring::open), or leaves it to the caller
  // (clear_damaged_slots). Everything else wrong with the header is refused either way.
  enum class SlotCheck { refuse_damaged, report_only };
  static std::shared_ptr<RingFile> open(const std::filesystem::path& path, const OpenOptions& open_options,
                                        SlotCheck slot_check = SlotCheck::refuse_damaged);
  // The slots holding what no library writes (DamagedSlot), in table order.
  std::vector<DamagedSlot> damaged_slots() const;
  ~RingFile();
  RingFile(const RingFile&) = delete;
  RingFile& operator=(const RingFile&) = delete;

  const RingInfo& info() const noexcept { return info_; }
  const Geometry& geometry() const noexcept { return geometry_; }
  bool read_only() const noexcept { return read_only_; }
  int fd() const noexcept { return fd_; }
  // Ring::path_names_this_file.
  bool path_names_this_file() const noexcept;
  // Ring::is_open_as.
  bool is_open_as(int fd) const noexcept;
  WriterPolicy policy() const noexcept { return info_.policy; }
  // Views slide in steps of half a view, so any frame of at most half a view fits in one view.
  std::uint64_t view_bytes() const noexcept { return info_.view_bytes; }
  std::uint64_t view_step() const noexcept { return info_.view_bytes / 2; }
  // On tmpfs: every page of the ring is memory, and mapping one never reads a disk.
  bool memory_backed() const noexcept { return memory_backed_; }
  // Producers may write group frames (format version 3); a file of version 2 takes none, so that
  // builds of version 2 still read it.
  bool takes_group_frames() const noexcept { return geometry_.group_span != 0; }
  // OpenOptions::resident_budget_bytes: 0, or the budget this process's producers publish.
  std::uint64_t resident_budget_override() const noexcept { return resident_budget_override_; }

  // The generation this process's producers write into their frames, and the only one its
  // consumers read past the head they last loaded (format::SessionLine); 0: none (a read-only
  // open before any writer of this session, or no boot id to tell sessions apart).
  std::uint16_t frame_generation() const noexcept { return frame_generation_; }

  // The mapped header. In a read-only ring it must only be loaded from.
  format::FileHeader& header() const noexcept { return *header_; }

  // Serialises slot table changes between threads (mutex) and processes (file lock).
  // @pre not read_only()
  std::unique_lock<std::mutex> lock_tables();
  // As lock_tables, without waiting: the guard owns no lock when another thread or process holds it.
  std::unique_lock<std::mutex> try_lock_tables();
  void unlock_tables(std::unique_lock<std::mutex>& guard);

 private:
  RingFile() = default;
  void open_validated(const std::filesystem::path& path, const OpenOptions& open_options, SlotCheck slot_check);
  void validate_identity(const format::FileIdentity& identity, std::uint64_t file_bytes);
  void validate_tables(SlotCheck slot_check) const;
  // ring_session.cpp
  // 0 when sessions cannot be told apart here (no boot id, no statx): then none is recorded.
  static std::uint64_t session_key(int fd);
  void join_session(std::uint64_t key);

  std::filesystem::path path_;
  std::mutex table_mutex_;  // flock excludes other open files, not threads sharing this one
  bool read_only_ = false;
  int fd_ = -1;
  // The open file's device and inode (its fstat at open, which they never change after).
  dev_t device_ = 0;
  ino_t inode_ = 0;
  boost::interprocess::file_mapping mapping_;
  boost::interprocess::mapped_region header_region_;
  format::FileHeader* header_ = nullptr;
  RingInfo info_;
  Geometry geometry_;
  std::uint64_t resident_budget_override_ = 0;
  bool memory_backed_ = false;
  int open_ring_entry_ = -1;  // in open_rings.hpp's table, for describe_truncated_ring
  std::optional<RingRegistration> whole_registration_;  // a ring on disk kept whole: see open_validated
  std::uint16_t frame_generation_ = 0;
};

// Table lock held for a scope.
class TableLock {
 public:
  explicit TableLock(RingFile& file) : file_(file), guard_(file.lock_tables()) {}
  // Only if the lock is free now: see owns_lock().
  TableLock(RingFile& file, std::try_to_lock_t) : file_(file), guard_(file.try_lock_tables()) {}
  ~TableLock() {
    if (guard_.owns_lock()) file_.unlock_tables(guard_);
  }
  bool owns_lock() const noexcept { return guard_.owns_lock(); }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  RingFile& file_;
  std::unique_lock<std::mutex> guard_;
};

}  // namespace ringfile::detail
