#include "ringfile/programs/program.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "ringfile/error.hpp"
#include "ringfile/format/file_header.hpp"
#include "ringfile/format/record_header.hpp"
#include "ringfile/format/utf8.hpp"
#include "ringfile/programs/fault_signals.hpp"
#include "ringfile/programs/units.hpp"
#include "ringfile/version.hpp"

namespace ringfile::programs {
namespace {

std::string& mutable_program_name() {
  static std::string name = "ringfile";
  return name;
}

std::string one_line(std::string_view text) {
  std::string line;
  std::size_t from = 0;
  for (std::size_t at = 0; at <= text.size(); ++at) {
    if (at < text.size() && text[at] != '\n' && text[at] != '\r') continue;
    line += printable_text(text.substr(from, at - from));
    if (at < text.size() && !line.empty() && line.back() != ' ') line += "; ";
    from = at + 1;
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == ';')) line.pop_back();
  return line;
}

// A standard descriptor the caller closed (`program >&-`) is taken by /dev/null opened the other
// way round, so that writing stdout (reading stdin) fails with EBADF as on the closed descriptor.
// Left closed, the library's first open would take it (it puts /dev/null there, readable and
// writable, so that the ring file never becomes stdout): a consumer's records went there, gone
// without a word, and its cursor moved past them (found by a tester).
void take_closed_stream(int fd, int other_way) noexcept {
  if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) return;
  const int opened = ::open("/dev/null", other_way);
  if (opened < 0 || opened == fd) return;
  ::dup2(opened, fd);
  ::close(opened);
}

}  // namespace

std::string printable_text(std::string_view text) {
  std::string shown;
  while (!text.empty()) {
    const format::Utf8Character character = format::decode_utf8(text);
    const std::size_t length = std::max<std::size_t>(character.length, 1);
    char escaped[16];
    if (character.length == 0) {
      // A byte that is not UTF-8, escaped as a control character is: raw, it would show as
      // whatever the terminal makes of it (0x9b is CSI to one that takes 8-bit controls).
      std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(static_cast<unsigned char>(text[0])));
      shown += escaped;
    } else if (format::acts_rather_than_shows(character.code_point)) {
      if (character.length == 1) {
        std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned>(character.code_point));
      } else {
        std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(character.code_point));
      }
      shown += escaped;
    } else {
      shown.append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  return shown;
}

const std::string& program_name() { return mutable_program_name(); }

void report_error(std::string_view message) {
  const std::string line = program_name() + ": " + one_line(message) + "\n";
  std::fflush(stdout);  // keep the order of what was printed before
  std::fputs(line.c_str(), stderr);
  std::fflush(stderr);
}

int run_guarded(std::string_view name, const std::function<int()>& body) {
  mutable_program_name() = std::string(name);
  take_closed_stream(STDIN_FILENO, O_WRONLY);
  take_closed_stream(STDOUT_FILENO, O_RDONLY);
  // The stored copy: `name` may be a view of the name this assignment has just replaced (a
  // producer's worker process passes program_name()).
  install_truncation_handler(program_name());
  int exit_code = kExitFailure;
  try {
    exit_code = body();
  } catch (const UsageError& error) {
    report_error(error.what());
    exit_code = kExitUsage;
  } catch (const ringfile::Error& error) {
    // The library's message already names the file and the fix. An out-of-range option (capacity,
    // consumer name, start position) is the caller's mistake, hence a usage error.
    report_error(error.what());
    exit_code = error.code() == ErrorCode::invalid_argument ? kExitUsage : kExitFailure;
  } catch (const std::bad_alloc&) {
    report_error("out of memory; lower the sizes asked for or free memory");
  } catch (const std::exception& error) {
    report_error(error.what());
  }
  if (!flush_stdout() && exit_code == kExitSuccess) exit_code = kExitFailure;
  return exit_code;
}

bool flush_stdout() noexcept {
  static bool reported = false;
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int error_number = errno;
  if (flushed && std::ferror(stdout) == 0) return true;
  if (!reported) {
    reported = true;
    try {
      // errno is that of the flush; a write that failed earlier left only the stream's flag.
      report_error(std::string("writing to stdout failed") +
                   (!flushed && error_number != 0 ? std::string(": ") + std::strerror(error_number) : "") +
                   "; what it shows is incomplete");
    } catch (...) {
      // Out of memory for the message: the exit code still says it.
    }
  }
  return false;
}

std::string version_line() {
  return program_name() + " " + kVersion + " (ring file format " + std::to_string(format::kVersionMajor) + "." +
         std::to_string(format::kVersionMinor) + ")";
}

std::uint32_t max_record_option(std::uint64_t bytes) {
  // The library reads 0 as "the default": given on the command line, it was a mistake.
  if (bytes == 0) throw UsageError("--max-record 0: a ring's records must be able to hold a byte; give a size (64K)");
  if (bytes > format::kMostRecordBytes) {
    throw UsageError("--max-record " + format_bytes_beside(bytes, format::kMostRecordBytes) +
                     " is above the largest record a ring takes (" +
                     format_bytes_beside(format::kMostRecordBytes, bytes) + "); lower it");
  }
  return static_cast<std::uint32_t>(bytes);
}

}  // namespace ringfile::programs
