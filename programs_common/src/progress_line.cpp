#include "ringfile/programs/progress_line.hpp"

#include <unistd.h>

#include <cstdio>

namespace ringfile::programs {

bool is_terminal(int fd) noexcept { return ::isatty(fd) == 1; }

ProgressLine::ProgressLine(bool wanted, std::chrono::milliseconds interval)
    : enabled_(wanted && is_terminal(STDERR_FILENO)),
      interval_(interval),
      next_(std::chrono::steady_clock::now() + interval) {}

ProgressLine::~ProgressLine() { clear(); }

bool ProgressLine::due() noexcept {
  if (!enabled_) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_) return false;
  next_ = now + interval_;
  return true;
}

void ProgressLine::show(const std::string& text) {
  if (!enabled_) return;
  // Carriage return, the text, then erase whatever a longer previous line left behind.
  std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void ProgressLine::clear() {
  if (!shown_) return;
  std::fputs("\r\x1b[K", stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace ringfile::programs
