// What every program shares about how it runs and ends: its name and version, exit codes,
// one-line errors, the guard around its body. No CLI11 here (ringfile/programs/command_line.hpp
// declares the options): that header costs seconds to compile in every file that includes it.
#pragma once

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ringfile::programs {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // a runtime failure: bad file, failed verification, I/O
inline constexpr int kExitUsage = 2;    // bad arguments

// A mistake in the arguments found after parsing. The message names the problem and the fix.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure while running. The message names the problem and the fix.
class RuntimeFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Runs a program's body; every exception becomes one line on stderr ("program: message") and its
// exit code: UsageError and ringfile::Error(invalid_argument) 2, everything else 1. Output lost on
// stdout (flush_stdout) turns an exit code of 0 into 1.
int run_guarded(std::string_view program_name, const std::function<int()>& body);

// Flushes stdout. False, after one line on stderr (said once a run), when anything written to it
// was lost: a full disk, /dev/full, a pipe closed with SIGPIPE ignored. A script redirecting a
// report to a file must not take a cut one for a whole one.
bool flush_stdout() noexcept;

// Prints "program: message" on stderr as a single line (newlines in `message` are folded, and
// what would act on the terminal is escaped as printable_text does).
void report_error(std::string_view message);

// `text` (a path, a name a user gave) as it may be shown on a terminal: control characters and
// bytes that are not UTF-8 as \xNN, and the C1 controls, line separators and bidirectional
// controls as \uXXXX; everything else as it is.
std::string printable_text(std::string_view text);
const std::string& program_name();

// "ringfile-consumer 0.2.0 (ring file format 1.1)": what --version prints.
std::string version_line();

// --max-record as CreateOptions takes it. Throws UsageError above the largest record the ring
// format takes (format::kMostRecordBytes), which a 32-bit count would otherwise truncate.
std::uint32_t max_record_option(std::uint64_t bytes);

}  // namespace ringfile::programs
