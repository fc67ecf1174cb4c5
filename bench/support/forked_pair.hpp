// Two sides of a benchmark in two processes: a forked child and the calling thread, each pinned.
#pragma once

#include <sys/types.h>

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

// A forked process that sends its parent a report through a pipe, and may first say that it is
// ready (set up, say, before the parent starts what it is to take part in).
class ReportingChild {
 public:
  // Forks; the child runs `work(ready)`, which may call `ready()` once, and sends what it
  // returns. Never throws; a failed fork shows as a child that ended without a report.
  explicit ReportingChild(const std::function<ChildReport(const std::function<void()>& ready)>& work);
  ~ReportingChild();  // kills and waits for a child finish() did not wait for
  ReportingChild(const ReportingChild&) = delete;
  ReportingChild& operator=(const ReportingChild&) = delete;

  // Waits until the child has called ready(): true, or false when it ended first.
  bool wait_ready();
  // Waits for the child (killing it first with `kill`) and returns its report; nullopt when it
  // ended without a whole report (it crashed, threw, or was killed).
  std::optional<ChildReport> finish(bool kill = false);

 private:
  pid_t pid_ = -1;
  int report_fd_ = -1;
  bool first_byte_read_ = false;  // the byte that says ready (or not) comes before the report
  bool ready_ = false;
};

// Runs `work` in a forked process and returns its report, through a pipe: for passes whose
// libraries hold per-process state that can be set up only once (iceoryx's runtime). nullopt
// when the process ended without a whole report (it crashed, or threw).
std::optional<ChildReport> run_in_child_process(const std::function<ChildReport()>& work);

}  // namespace ringfile::bench
