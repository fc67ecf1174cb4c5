// Redraws a multi-line frame in place in a terminal: the cursor goes back up over the previous
// frame, so that what was printed above it stays, and the last frame stays on screen at the end.
#pragma once

#include <cstddef>
#include <string>

namespace ringfile::status {

class TerminalRedraw {
 public:
  // The escape sequences and text that replace the previous frame with `text`.
  std::string frame(const std::string& text);

 private:
  std::size_t previous_lines_ = 0;
};

}  // namespace ringfile::status
