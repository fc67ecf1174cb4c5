#include "footprint/size_run.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "ringfile/error.hpp"
#include "ringfile/producer.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/ring.hpp"
#include "ringfile/system/clock.hpp"
#include "ringfile/system/errno_text.hpp"
#include "ringfile/system/process_io.hpp"
#include "ringfile/system/shared_memory.hpp"
#include "support/byte_size.hpp"
#include "support/machine_info.hpp"
#include "support/paging_names.hpp"

namespace ringfile::bench::footprint {

namespace {

namespace fs = std::filesystem;

std::uint64_t own_disk_read_bytes() { return system::own_process_io().value_or(system::ProcessIo{}).read_bytes; }

// The body of the child that measures one ring size.
void measure(const FootprintOptions& options, std::uint64_t ring_bytes, const fs::path& ring_path, SizeResult& result) {
  result.ring_bytes = ring_bytes;
  CreateOptions create;
  create.capacity_bytes = ring_bytes;
  create.policy = WriterPolicy::overwrite;  // no consumer: never wait
  create.max_record_bytes = static_cast<std::uint32_t>(options.record_bytes);
  OpenOptions open;
  open.view_bytes = options.view_bytes;
  const Ring ring = Ring::create(ring_path, create, open);
  result.view_bytes = ring.info().view_bytes;
  std::snprintf(result.paging, sizeof(result.paging), "%s", paging_strategy_name(ring.info().paging));
  Producer producer(ring);
  std::vector<std::byte> record(options.record_bytes);
  for (std::size_t index = 0; index < record.size(); ++index) {
    record[index] = static_cast<std::byte>((index * 131 + 17) & 0xff);
  }
  const std::string path_text = ring_path.string();
  result.before = sample_memory(path_text);
  result.peak = result.before;
  // About every 256 MiB: enough samples to see growth, few enough to cost nothing.
  const std::uint64_t sample_every = std::max<std::uint64_t>(1, (256ull << 20) / options.record_bytes);
  const std::uint64_t disk_before = own_disk_read_bytes();
  const std::uint64_t start_head = ring.head_position();
  const std::uint64_t target = start_head + options.laps * ring_bytes;
  const std::uint64_t start_ns = system::monotonic_ns();
  for (std::uint64_t sequence = 0; ring.head_position() < target; ++sequence) {
    std::memcpy(record.data(), &sequence, sizeof(sequence));
    const ClaimResult claim = producer.claim(record.size(), std::chrono::seconds(10));
    if (!claim) throw programs::RuntimeFailure(std::string("claim failed: ") + to_string(claim.status));
    std::memcpy(claim.buffer.data(), record.data(), record.size());
    const ClaimStatus committed = producer.commit();
    if (committed != ClaimStatus::ok) {
      throw programs::RuntimeFailure(std::string("commit failed: ") + to_string(committed));
    }
    result.payload_bytes += record.size();
    if (sequence % sample_every == 0) {
      keep_peak(result.peak, sample_memory(path_text));
      ++result.samples;
    }
  }
  result.seconds = system::seconds_between(start_ns, system::monotonic_ns());
  result.after = sample_memory(path_text);
  keep_peak(result.peak, result.after);
  result.disk_read_bytes = own_disk_read_bytes() - disk_before;
  result.ring_resident_bytes = ring.residency().resident_bytes;
}

void check_free_space(const fs::path& directory, std::uint64_t needed) {
  const std::optional<std::uint64_t> free_space = free_bytes(directory);
  if (!free_space) throw programs::RuntimeFailure(system::describe_errno("cannot stat " + directory.string(), errno));
  if (needed > *free_space) {
    throw programs::RuntimeFailure("a ring of " + format_byte_size(needed) + " does not fit in " + directory.string() +
                                   " (" + std::to_string(*free_space / (1ull << 30)) +
                                   " GiB free); use smaller --sizes or --dir elsewhere");
  }
}

}  // namespace

SizeResult run_size(const FootprintOptions& options, std::uint64_t ring_bytes) {
  const fs::path ring_path =
      fs::path(options.directory) / ("ringfile-bench-footprint-" + std::to_string(::getpid()) + ".ring");
  check_free_space(options.directory, ring_bytes + (1ull << 20));
  const system::SharedObjects<SizeResult> shared("the measuring process's result");
  const pid_t child = ::fork();
  if (child < 0) throw programs::RuntimeFailure(system::describe_errno("fork", errno));
  if (child == 0) {
    try {
      measure(options, ring_bytes, ring_path, shared.front());
    } catch (const std::exception& failure) {
      std::snprintf(shared.front().error, sizeof(shared.front().error), "%s", failure.what());
      ::_exit(1);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  SizeResult result = shared.front();
  std::error_code ignored;
  fs::remove(ring_path, ignored);
  if (result.error[0] == '\0' && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    std::snprintf(result.error, sizeof(result.error), "measuring process failed (status %d)", status);
  }
  return result;
}

}  // namespace ringfile::bench::footprint
