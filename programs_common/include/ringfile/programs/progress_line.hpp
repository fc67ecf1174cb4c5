// A progress line on stderr, rewritten in place about once a second, shown only when stderr is a
// terminal (a log file gets the final summary line only).
#pragma once

#include <chrono>
#include <string>

namespace ringfile::programs {

bool is_terminal(int fd) noexcept;

class ProgressLine {
 public:
  // `wanted`: not --quiet. The line is shown when that holds and stderr is a terminal.
  explicit ProgressLine(bool wanted, std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~ProgressLine();
  bool enabled() const noexcept { return enabled_; }
  // True about once per interval; cheap enough to ask on every loop iteration.
  bool due() noexcept;
  void show(const std::string& text);
  // Erases the line, so that what comes next starts at the beginning of an empty line.
  void clear();

 private:
  bool enabled_;
  bool shown_ = false;
  std::chrono::steady_clock::duration interval_;
  std::chrono::steady_clock::time_point next_;
};

}  // namespace ringfile::programs
