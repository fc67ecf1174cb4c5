// SIGBUS in a program: a ring file truncated under a live mapping (ringfile/truncated_rings.hpp)
// ends the program as any other runtime failure does, with a one-line error that names the file
// and exit status 1, instead of dying of the signal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringfile::programs {

// Installs the SIGBUS handler; `program_name` prefixes its line. Any other SIGBUS (an I/O error
// under a mapping, a bug) is described in one line and then delivered as before (core dump).
void install_truncation_handler(std::string_view program_name);

// What the handler calls after its line and before it exits 1 on a truncated ring: the last
// words a program owes on stdout (ringfile-producer's --json summary, which promises to come when
// a run fails too). It runs in the signal handler: write(2) and arithmetic only, no allocation,
// no stdio. nullptr (the default): none.
using TruncationEpilogue = void (*)() noexcept;
void set_truncation_epilogue(TruncationEpilogue epilogue) noexcept;

// A line an epilogue (or the handler) may build and write: a fixed buffer, text, counts and
// non-negative numbers with six decimals, written with write(2) alone. What does not fit is cut.
class SignalSafeLine {
 public:
  SignalSafeLine& text(const char* text) noexcept;
  SignalSafeLine& count(std::uint64_t value) noexcept;
  SignalSafeLine& decimal(double value) noexcept;
  void write_to(int fd) const noexcept;

 private:
  char buffer_[1024];  // a consumer's summary with its --verify object, every count at 20 digits
  std::size_t used_ = 0;
};

// CLOCK_MONOTONIC in nanoseconds, as an epilogue may read it (clock_gettime is async-signal-safe):
// when a run started, and then how long it ran.
std::uint64_t monotonic_now_ns() noexcept;

// Opens an epilogue's --json summary with the fields every run summary starts with, as
// programs::Throughput writes them (records, bytes, seconds, idle_seconds, waiting_seconds,
// records_per_s, bytes_per_s), for a run that started at `started_ns` (monotonic_now_ns) and ends now. The
// caller adds its program's own fields and the closing brace.
void open_run_summary(SignalSafeLine& json, std::uint64_t records, std::uint64_t bytes,
                      std::uint64_t started_ns) noexcept;

}  // namespace ringfile::programs
