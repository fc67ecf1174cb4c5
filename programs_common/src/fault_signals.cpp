#include "ringfile/programs/fault_signals.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>

#include "ringfile/programs/program.hpp"
#include "ringfile/truncated_rings.hpp"

namespace ringfile::programs {
namespace {

// Set by the program, read by the handler: lock-free, so a signal between the two sees either.
std::atomic<TruncationEpilogue> g_epilogue{nullptr};
static_assert(std::atomic<TruncationEpilogue>::is_always_lock_free);

// Filled once before the handler is installed; the handler only reads it.
char g_prefix[64] = "ringfile: ";
std::size_t g_prefix_bytes = std::strlen(g_prefix);

void write_all(int fd, const char* text, std::size_t bytes) noexcept {
  while (bytes > 0) {
    const ssize_t written = ::write(fd, text, bytes);
    if (written <= 0) return;  // nothing more a handler can do
    text += written;
    bytes -= static_cast<std::size_t>(written);
  }
}

// Only async-signal-safe calls: fstat (in describe_truncated_ring), write, _exit, raise.
extern "C" void on_bus_error(int, siginfo_t* info, void*) {
  char line[768];
  std::memcpy(line, g_prefix, g_prefix_bytes);
  char* const text = line + g_prefix_bytes;
  const std::size_t room = sizeof line - g_prefix_bytes - 1;  // keeps a byte for the newline
  if (describe_truncated_ring(text, room)) {
    const std::size_t length = g_prefix_bytes + std::strlen(text);
    line[length] = '\n';
    write_all(STDERR_FILENO, line, length + 1);
    // Acquire: pairs with the release store in set_truncation_epilogue (what it reads is set).
    if (const TruncationEpilogue epilogue = g_epilogue.load(std::memory_order_acquire)) epilogue();
    ::_exit(kExitFailure);
  }
  constexpr char kOther[] =
      "SIGBUS: a page of a mapped file could not be read or written (an I/O error, or no space for it)\n";
  write_all(STDERR_FILENO, line, g_prefix_bytes);
  write_all(STDERR_FILENO, kOther, sizeof kOther - 1);
  // SA_RESETHAND has restored the default action: a fault happens again when the handler
  // returns to the faulting access; a SIGBUS sent by kill(2) is raised again here.
  if (info == nullptr || info->si_code <= 0) ::raise(SIGBUS);
}

}  // namespace

SignalSafeLine& SignalSafeLine::text(const char* text) noexcept {
  while (*text != '\0' && used_ < sizeof buffer_) buffer_[used_++] = *text++;
  return *this;
}

SignalSafeLine& SignalSafeLine::count(std::uint64_t value) noexcept {
  char digits[20];
  int length = 0;
  do {
    digits[length++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (length > 0 && used_ < sizeof buffer_) buffer_[used_++] = digits[--length];
  return *this;
}

SignalSafeLine& SignalSafeLine::decimal(double value) noexcept {
  const double micro = value > 0 && value < 1e13 ? value * 1e6 + 0.5 : 0;
  const auto units = static_cast<std::uint64_t>(micro);
  count(units / 1'000'000).text(".");
  const std::uint64_t fraction = units % 1'000'000;
  for (std::uint64_t place = 100'000; place > 0; place /= 10) {
    const char digit[2] = {static_cast<char>('0' + fraction / place % 10), '\0'};
    text(digit);
  }
  return *this;
}

void SignalSafeLine::write_to(int fd) const noexcept { write_all(fd, buffer_, used_); }

std::uint64_t monotonic_now_ns() noexcept {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000 + static_cast<std::uint64_t>(now.tv_nsec);
}

void open_run_summary(SignalSafeLine& json, std::uint64_t records, std::uint64_t bytes,
                      std::uint64_t started_ns) noexcept {
  const double seconds = static_cast<double>(monotonic_now_ns() - started_ns) / 1e9;
  json.text("{\"records\":").count(records).text(",\"bytes\":").count(bytes);
  json.text(",\"seconds\":").decimal(seconds).text(",\"idle_seconds\":0,\"waiting_seconds\":0");
  json.text(",\"records_per_s\":").decimal(seconds > 0 ? static_cast<double>(records) / seconds : 0);
  json.text(",\"bytes_per_s\":").decimal(seconds > 0 ? static_cast<double>(bytes) / seconds : 0);
}

void set_truncation_epilogue(TruncationEpilogue epilogue) noexcept {
  // Release: the state the epilogue reads was set before it is handed over.
  g_epilogue.store(epilogue, std::memory_order_release);
}

void install_truncation_handler(std::string_view program_name) {
  const std::size_t name_bytes = std::min(program_name.size(), sizeof g_prefix - 3);
  std::memcpy(g_prefix, program_name.data(), name_bytes);
  std::memcpy(g_prefix + name_bytes, ": ", 3);
  g_prefix_bytes = name_bytes + 2;
  struct sigaction action {};
  action.sa_sigaction = on_bus_error;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_SIGINFO | SA_RESETHAND;
  sigaction(SIGBUS, &action, nullptr);
}

}  // namespace ringfile::programs
