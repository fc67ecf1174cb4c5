#include "housekeeper.hpp"

#include <unistd.h>

#include <algorithm>

#include "atomics.hpp"
#include "clock.hpp"
#include "futex.hpp"

namespace ringfile::detail {
namespace {
// Work is also done on this period when nobody notifies: consumers move while producers idle.
constexpr std::uint64_t kIdlePeriodNs = 50'000'000;
// The memory there is, and the rings sharing it, are looked at again this often (a directory
// listing and a file read: tens of microseconds). Rings that open one after another each start
// with the budget of the rings open before them; at 1 s, the first writers ran that long on a
// share several times too large, and 8 rings with slow readers filled a 683 MiB box in their
// first lap (542-683 MiB; 232-235 MiB at 100 ms).
constexpr std::uint64_t kBudgetPeriodNs = 100'000'000;
}  // namespace

Housekeeper::Housekeeper(RingFile& file, const SyncPolicy& sync)
    : file_(file),
      // Only rings whose pages the engine manages take a share of the memory.
      registration_(file.info().paging != PagingStrategy::none ? file.fd() : -1),
      pager_(file),
      sync_(sync) {
  // Before the first record: producers and consumers pace by the budget from the start.
  if (pager_.strategy() != PagingStrategy::none) refresh_budget();
  thread_ = std::thread([this] { run(); });
}

void Housekeeper::refresh_budget() noexcept {
  publish_budget(file_, choose_budget(file_, RingRegistration::open_rings()));
}

Housekeeper::~Housekeeper() {
  // Release, both: the thread loads the wake word (acquire) before stopping_, so one that sees
  // the new word sees stopping_ set; one that loaded the old word finds it changed and does not
  // sleep on it.
  stopping_.store(true, std::memory_order_release);
  atomic_field(wake_word_).fetch_add(1, std::memory_order_release);
  futex_wake_all(&wake_word_);
  thread_.join();
}

void Housekeeper::notify(std::uint64_t reserved_end) noexcept {
  reserved_ends_.push(reserved_end);  // a full queue is fine: the thread reads the head anyway
  // Release: pairs with the acquire load of the word before the thread drains the queue.
  atomic_field(wake_word_).fetch_add(1, std::memory_order_release);
  futex_wake_all(&wake_word_);
}

void Housekeeper::run() noexcept {
  const auto& header = file_.header();
  const std::uint64_t interval_ns = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(sync_.interval).count());
  const bool interval_sync = sync_.mode == SyncPolicy::Mode::interval && interval_ns > 0;
  std::uint64_t last_sync_ns = monotonic_ns();
  std::uint64_t budget_refreshed_ns = monotonic_ns();
  for (;;) {
    // The word before the stop flag: a stop that lands after this load also bumps the word, so
    // the sleep below returns at once instead of sleeping out the period.
    const std::uint32_t observed = atomic_field(wake_word_).load(std::memory_order_acquire);
    if (stopping_.load(std::memory_order_acquire)) break;
    if (pager_.strategy() != PagingStrategy::none && monotonic_ns() >= budget_refreshed_ns + kBudgetPeriodNs) {
      refresh_budget();
      budget_refreshed_ns = monotonic_ns();
    }
    // Acquire: pairs with the producers' head CAS; only sets how far to prepare.
    std::uint64_t target = load_field(header.head_position.value, std::memory_order_acquire);
    std::uint64_t reserved_end = 0;
    while (reserved_ends_.pop(reserved_end)) target = std::max(target, reserved_end);

    // Relaxed: a one-way hint from the producer; seen late, it only delays the zero fill.
    if (fills_in_place_.load(std::memory_order_relaxed)) pager_.fill_prepared_with_zeros();
    pager_.prepare_until(target + pager_.ahead_bytes());
    pager_.start_writeback();
    pager_.release_behind();

    std::uint64_t sleep_ns = kIdlePeriodNs;
    if (interval_sync) {
      const std::uint64_t now = monotonic_ns();
      if (now >= last_sync_ns + interval_ns) {
        // Every interval, even with the head where it was: the header changes without it (the
        // budget follows the memory there is, the frontiers move on as write-back completes, and
        // an attempt at preparation that finds itself throttled takes and gives back its lock,
        // which dirties the page with no change to see). On a clean file it writes nothing.
        ::fdatasync(file_.fd());
        last_sync_ns = now;
      }
      sleep_ns = std::min(sleep_ns, last_sync_ns + interval_ns - std::min(now, last_sync_ns + interval_ns) + 1);
    }
    futex_wait(&wake_word_, observed, std::chrono::nanoseconds(sleep_ns));
  }
}

}  // namespace ringfile::detail
