// A producer's background thread: keeps the ring prepared ahead of the head, starts write-back,
// drops pages behind the consumers, keeps the ring's memory budget up to date and runs interval
// syncs, so that none of it lands on the producer's hot path. The producer hands it the head
// through a wait-free SPSC queue.
#pragma once

#include <atomic>
#include <boost/lockfree/spsc_queue.hpp>
#include <cstdint>
#include <thread>

#include "paging.hpp"
#include "ring_file.hpp"
#include "ring_registry.hpp"
#include "ringfile/options.hpp"

namespace ringfile::detail {

class Housekeeper {
 public:
  Housekeeper(RingFile& file, const SyncPolicy& sync);
  ~Housekeeper();
  Housekeeper(const Housekeeper&) = delete;
  Housekeeper& operator=(const Housekeeper&) = delete;

  // Wakes the thread to work towards `reserved_end`. Wait-free apart from one futex wake.
  // @pre called only by the producer thread that owns this housekeeper (single producer)
  void notify(std::uint64_t reserved_end) noexcept;
  // The producer fills records in place: preparation zero-fills (Pager::fill_prepared_with_zeros).
  void producer_fills_in_place() noexcept { fills_in_place_.store(true, std::memory_order_relaxed); }

 private:
  void run() noexcept;
  void refresh_budget() noexcept;

  RingFile& file_;
  // Counted among the rings open on the machine for as long as this producer runs the engine.
  RingRegistration registration_;
  // Its own: a Pager's bookkeeping belongs to the thread using it (what is shared between
  // threads and processes lives in the header).
  Pager pager_;
  SyncPolicy sync_;
  boost::lockfree::spsc_queue<std::uint64_t, boost::lockfree::capacity<64>> reserved_ends_;
  std::uint32_t wake_word_ = 0;  // futex word; accessed through atomic_ref
  std::atomic<bool> stopping_{false};
  // Relaxed: a hint that changes how pages are prepared, not what anyone reads.
  std::atomic<bool> fills_in_place_{false};
  std::thread thread_;
};

}  // namespace ringfile::detail
