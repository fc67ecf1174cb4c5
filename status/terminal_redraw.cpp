#include "terminal_redraw.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>

namespace ringfile::status {
namespace {

std::size_t terminal_rows() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_row > 0) return size.ws_row;
  return 24;
}

}  // namespace

std::string TerminalRedraw::frame(const std::string& text) {
  const auto lines = static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
  std::string frame;
  if (previous_lines_ > 0 && previous_lines_ < terminal_rows()) {
    frame = "\x1b[" + std::to_string(previous_lines_) + "A\r";
  } else if (previous_lines_ > 0) {
    // Taller than the screen: the cursor cannot climb back over it, so start a clean screen.
    frame = "\x1b[H\x1b[2J";
  }
  // Each line erased to its end, then whatever a longer previous frame left below.
  for (const char character : text) frame += character == '\n' ? std::string("\x1b[K\n") : std::string(1, character);
  previous_lines_ = lines;
  return frame + "\x1b[J";
}

}  // namespace ringfile::status
