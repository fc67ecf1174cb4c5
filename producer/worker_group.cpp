#include "worker_group.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <thread>
#include <vector>

#include "produce_loop.hpp"
#include "ringfile/programs/program.hpp"
#include "ringfile/programs/progress_line.hpp"
#include "ringfile/programs/stop_signals.hpp"
#include "ringfile/system/shared_memory.hpp"

namespace ringfile::producer {
namespace {

// The body of one child: open the ring afresh (its own descriptor, so that its file locks are
// its own) and produce. Never returns.
[[noreturn]] void run_child(const ProducerSettings& settings, const std::filesystem::path& path,
                            ProducerTally& tally, pid_t parent) {
  // A parent killed outright (SIGKILL, a crash) cannot pass a stop on: its children stop as on
  // SIGTERM (a clean stop) rather than write on for ever unwatched. Asked for after the fork, so
  // a parent already gone by then is looked for too.
  if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || ::getppid() != parent) ::_exit(programs::kExitFailure);
  const int code = programs::run_guarded(programs::program_name(), [&] {
    const Ring ring = Ring::open(path);
    return produce(settings, ring, tally, nullptr);
  });
  std::fflush(stderr);
  ::_exit(code);
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return programs::kExitFailure;  // killed by a signal
}

}  // namespace

GroupResult run_producer_processes(const ProducerSettings& settings) {
  const std::size_t process_count = settings.process_count();
  // In memory shared with the children (inherited across fork).
  const system::SharedObjects<ProducerTally> tallies("the producer tallies", process_count);
  std::vector<pid_t> children;
  const auto started = std::chrono::steady_clock::now();
  std::fflush(nullptr);  // or the children inherit unwritten output and print it again
  const pid_t parent = ::getpid();
  for (const auto& path : settings.paths) {
    for (unsigned copy = 0; copy < settings.procs_per_ring; ++copy) {
      ProducerTally& tally = tallies[children.size()];
      const pid_t child = ::fork();
      if (child < 0) {
        for (const pid_t started_child : children) ::kill(started_child, SIGTERM);
        throw programs::RuntimeFailure(std::string("cannot start a producer process: ") + std::strerror(errno) +
                                       "; lower --procs or raise the process limit");
      }
      if (child == 0) run_child(settings, path, tally, parent);
      children.push_back(child);
    }
  }

  GroupResult result;
  programs::ProgressLine progress(!settings.quiet);
  ProgressMeter meter(process_count);
  std::size_t running = children.size();
  bool forwarded_stop = false;
  while (running > 0) {
    int status = 0;
    const pid_t finished = ::waitpid(-1, &status, WNOHANG);
    if (finished > 0) {
      result.exit_code = std::max(result.exit_code, exit_code_of(status));
      --running;
      continue;
    }
    if (finished < 0 && errno != EINTR) break;
    // A terminal's Ctrl-C reaches the whole process group; SIGTERM sent to the parent alone
    // must be passed on. A child counts either as one request to stop cleanly.
    if (programs::stop_requested() && !forwarded_stop) {
      forwarded_stop = true;
      for (const pid_t child : children) ::kill(child, SIGTERM);
    }
    if (progress.due()) progress.show(meter.line(sum(tallies.all())));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  progress.clear();
  result.totals = sum(tallies.all());
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace ringfile::producer
