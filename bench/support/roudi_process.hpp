// iceoryx's daemon RouDi, for the benchmarks that run iceoryx as a baseline: each pass starts its
// own `iox-roudi` (Debian's iceoryx package) and stops it. Needs no iceoryx library: the programs
// link iceoryx where it is installed and ask here whether the daemon is there too.
#pragma once

#include <sys/types.h>

#include <string>

namespace ringfile::bench {

// Whether `iox-roudi` is an executable on PATH.
bool iox_roudi_on_path();

// Why the program's iceoryx baseline cannot run here (nullptr: it can). Inline, so that it sees
// the program's own RINGFILE_BENCH_ICEORYX (defined for the whole program where it was built with
// Debian's libiceoryx-posh-dev).
inline const char* iceoryx_unavailable() {
#ifdef RINGFILE_BENCH_ICEORYX
  return iox_roudi_on_path() ? nullptr : "iox-roudi is not on PATH (apt-get install iceoryx)";
#else
  return "built without it (apt-get install libiceoryx-posh-dev iceoryx, then build the benchmarks again)";
#endif
}

// `iox-roudi`, started by the constructor (which returns once it says it is ready for clients)
// and stopped by the destructor. error() says why it is not running: not installed, or it could
// not start (another RouDi running, say).
class RoudiProcess {
 public:
  RoudiProcess();
  ~RoudiProcess();
  RoudiProcess(const RoudiProcess&) = delete;
  RoudiProcess& operator=(const RoudiProcess&) = delete;

  const std::string& error() const noexcept { return error_; }

 private:
  std::string log_text() const;

  pid_t pid_ = -1;
  std::string log_path_;  // its stdout and stderr: how it says it is ready, or why it stopped
  std::string error_;
};

}  // namespace ringfile::bench
