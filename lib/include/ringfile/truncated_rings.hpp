// A ring file cut short while this process has it mapped (truncated by another process, copied
// over by a copy that stops short): the next access to a page past the file's new end raises
// SIGBUS. Opening checks the size (ErrorCode::truncated); under a live mapping the library does
// not catch the signal, because the spans it hands out (claimed buffers, payloads read in place)
// are read and written by the caller's code, where no guard of the library reaches. A program
// turns the signal into a one-line error with a SIGBUS handler that calls the function below;
// the programs of this project do (docs/truncation.md).
#pragma once

#include <cstddef>

namespace ringfile {

// Async-signal-safe, for a SIGBUS handler. Looks at the size of every ring file this process has
// open (fstat(2)) and, for the first one shorter than its header declares, writes into `message`
// one line (NUL-terminated, cut to `capacity`) that names the file and both sizes. Returns false
// when none is: the fault has another cause.
bool describe_truncated_ring(char* message, std::size_t capacity) noexcept;

}  // namespace ringfile
