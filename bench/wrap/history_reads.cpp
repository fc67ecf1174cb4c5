#include "wrap/history_reads.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <exception>
#include <functional>

#include "ringfile/system/clock.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/page_cache.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "wrap/child_processes.hpp"
#include "wrap/shared_run_state.hpp"

namespace ringfile::bench::wrap {

namespace {

constexpr std::size_t kRequestBytes = 1 << 20;  // dd bs=1M

// What one child does with one ring; fills everything in the report but the times.
using HistoryBody = std::function<void(const RingSetup& setup, HistoryReport& report)>;

void replay_one_ring(const WriterKind& kind, const RingSetup& setup, HistoryReport& report) {
  RecordCheck check(setup.record_bytes, 0);  // checked, but no extra work: this times the disk
  const HistoryRead read = kind.read_history(setup, check);
  report.records_read = read.records_read;
  report.records_mismatched = read.records_mismatched;
  report.bytes = read.ring_bytes;
  if (!read.error.empty()) copy_error(report.error, read.error.c_str());
}

void read_one_file(const RingSetup& setup, HistoryReport& report) {
  const int fd = ::open(setup.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    copy_error(report.error, system::describe_errno("cannot open " + setup.path.string(), errno).c_str());
    return;
  }
  std::vector<std::byte> buffer(kRequestBytes);
  for (;;) {
    const ssize_t got = ::pread(fd, buffer.data(), buffer.size(), static_cast<off_t>(report.bytes));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      copy_error(report.error, system::describe_errno("pread " + setup.path.string(), errno).c_str());
    }
    if (got <= 0) break;
    report.bytes += static_cast<std::uint64_t>(got);
  }
  ::close(fd);
}

[[noreturn]] void run_history_child(const HistoryBody& body, const RingSetup& setup,
                                    SharedHistoryState& state, HistoryReport& report) {
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  state.start_gate.check_in_and_wait();
  const RunCounters counters;
  try {
    body(setup, report);
  } catch (const std::exception& failure) {
    copy_error(report.error, failure.what());
  }
  counters.finish(report.times);
  // _exit: the forked child must not run the parent's atexit handlers or flush its stdio.
  ::_exit(report.error[0] == '\0' ? 0 : 1);
}

// Drops the rings from memory, forks one child per ring running `body`, opens the gate together
// and times them to the last exit.
HistoryResult run_history_children(const char* role, const HistoryBody& body,
                                   const std::vector<RingSetup>& setups,
                                   const std::vector<system::FileDescriptor>& ring_files, const Box& box) {
  HistoryResult result;
  for (const system::FileDescriptor& file : ring_files) {
    if (!system::flush_and_drop_page_cache(file.get())) {
      result.error = system::describe_errno("cannot drop the rings' page cache", errno);
      return result;
    }
  }
  std::optional<system::SharedObjects<SharedHistoryState>> shared;
  try {
    shared.emplace("the replay's shared state");
  } catch (const std::exception& failure) {
    result.error = failure.what();
    return result;
  }
  SharedHistoryState& state = shared->front();
  std::vector<ChildProcess> children;
  for (std::size_t ring = 0; ring < setups.size() && ring < kMaxRings; ++ring) {
    ChildProcess child{-1, role, ring, false, 0};
    child.pid = ::fork();
    if (child.pid == 0) run_history_child(body, setups[ring], state, state.rings[ring]);
    if (child.pid < 0) {
      append_error(result.error, system::describe_errno("fork", errno));
      request_stop();  // the children already running are stopped by watch_children
      break;
    }
    children.push_back(child);
  }
  state.start_gate.wait_for_check_ins(children);
  const std::optional<BoxDiskBytes> disk_before = box.disk_bytes();
  const std::uint64_t start_ns = system::monotonic_ns();
  state.start_gate.open_now();
  watch_children(children, [] {});
  const std::uint64_t end_ns = system::monotonic_ns();  // within a poll interval (5 ms) of the last exit
  const std::optional<BoxDiskBytes> disk_after = box.disk_bytes();
  if (disk_before && disk_after) {
    result.box_disk = BoxDiskBytes{disk_after->read_bytes - disk_before->read_bytes,
                                   disk_after->write_bytes - disk_before->write_bytes,
                                   disk_after->read_requests - disk_before->read_requests};
  }
  for (const ChildProcess& child : children) {
    const HistoryReport& report = state.rings[child.ring_index];
    result.records_read += report.records_read;
    result.records_mismatched += report.records_mismatched;
    result.bytes += report.bytes;
    add_process_times(report.times, result.times);
    if (!exited_cleanly(child)) append_error(result.error, describe_exit(child, report.error));
  }
  result.seconds = system::seconds_between(start_ns, end_ns);
  result.megabytes_per_second =
      result.seconds > 0 ? static_cast<double>(result.bytes) / 1e6 / result.seconds : 0;
  return result;
}

}  // namespace

std::optional<HistoryResult> replay_history(const WriterKind& kind,
                                            const std::vector<RingSetup>& setups,
                                            const std::vector<system::FileDescriptor>& ring_files,
                                            const Box& box) {
  if (kind.read_history == nullptr) return std::nullopt;
  return run_history_children(
      "replayer",
      [&kind](const RingSetup& setup, HistoryReport& report) { replay_one_ring(kind, setup, report); },
      setups, ring_files, box);
}

HistoryResult read_files_sequentially(const std::vector<RingSetup>& setups,
                                      const std::vector<system::FileDescriptor>& ring_files,
                                      const Box& box) {
  return run_history_children("sequential reader", read_one_file, setups, ring_files, box);
}

}  // namespace ringfile::bench::wrap
