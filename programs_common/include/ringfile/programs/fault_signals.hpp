// SIGBUS in a program: a ring file truncated under a live mapping (ringfile/truncated_rings.hpp)
// ends the program as any other runtime failure does, with a one-line error that names the file
// and exit status 1, instead of dying of the signal.
#pragma once

#include <string_view>

namespace ringfile::programs {

// Installs the SIGBUS handler; `program_name` prefixes its line. Any other SIGBUS (an I/O error
// under a mapping, a bug) is described in one line and then delivered as before (core dump).
void install_truncation_handler(std::string_view program_name);

}  // namespace ringfile::programs
