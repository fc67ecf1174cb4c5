// SIGINT and SIGTERM ask a program to stop: the handler only counts the request, and the
// program's loops look at the count between records (never inside the library's hot path).
#pragma once

#include <chrono>

namespace ringfile::programs {

// Installs the counting handlers for SIGINT and SIGTERM, without SA_RESTART so that a blocking
// read(2) returns EINTR and the loop gets to look at the count. Also ignores SIGPIPE: a closed
// output is reported as an error (EPIPE) and the program exits through its normal path.
void install_stop_handlers();

// How many stop signals arrived. One asks for a clean stop; a second one, to give up waiting.
int stop_requests() noexcept;
// A stop signal arrived, or the time request_stop_after set has come.
bool stop_requested() noexcept;

// Makes stop_requested() true `duration` from now, as a stop signal would, without counting as
// one (a single signal after it still asks for a clean stop): for a program whose --duration must
// end its retry loops and waits too (the bridge during a NATS outage), which look at the flag and
// at no clock.
void request_stop_after(std::chrono::nanoseconds duration);

// Sleeps up to `duration`, waking early when a stop signal arrives.
void sleep_unless_stopped(std::chrono::nanoseconds duration);

}  // namespace ringfile::programs
