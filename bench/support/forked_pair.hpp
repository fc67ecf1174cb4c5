// Two sides of a benchmark in two processes: a forked child and the calling thread, each pinned.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ringfile::bench {

struct ForkedSide {
  std::string role;  // "producer", "echo": names the side in errors
  int cpu = 0;
  std::function<bool()> run;  // true: this side did its part
};

// Forks; the child pins itself to child.cpu and runs child.run, the calling thread pins itself
// to parent.cpu (restored afterwards) and runs parent.run (false kills the child), then waits for
// the child. Returns an empty string, or what failed: "fork: ...", "cannot pin the <role>",
// "<role> process failed". The parent's own failure is left to parent.run to describe (the result
// is then empty). Never throws: an exception from either side counts as that side failing.
std::string run_forked_pair(const ForkedSide& child, const ForkedSide& parent);

// What a pass run in a child process sends back to its parent: a few counts, a text (its error,
// say) and samples.
struct ChildReport {
  std::vector<std::uint64_t> counts;
  std::string text;
  std::vector<std::uint64_t> samples;
};

// Runs `work` in a forked process and returns its report, through a pipe: for passes whose
// libraries hold per-process state that can be set up only once (iceoryx's runtime). nullopt
// when the process ended without a whole report (it crashed, or threw).
std::optional<ChildReport> run_in_child_process(const std::function<ChildReport()>& work);

}  // namespace ringfile::bench
