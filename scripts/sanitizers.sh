#!/usr/bin/env bash
# The sanitizer passes of the test command (scripts/dev.sh test runs them after the plain suite;
# RINGFILE_SANITIZERS=0 skips them):
#   1. AddressSanitizer + UndefinedBehaviorSanitizer (clang, with the libFuzzer targets): the whole
#      suite, which includes every fuzz target over its seed corpus plus RINGFILE_FUZZ_SECONDS
#      (default 8) of fuzzing, and ringfile-bridge against its JetStream cluster (with
#      RINGFILE_BRIDGE_KILLS, default 10, kills of each side);
#   2. ThreadSanitizer (gcc): the multi-process stress, thread and fault tests.
# Both kill RINGFILE_FAULT_KILLS (default 100) producers in the fault suite's kill test, half the
# plain pass's 200: each kill starts an instrumented process, and the run must stay well under 25
# minutes.
# A sanitizer report fails the pass: reports end the process that made them (no recovery), and
# each sanitizer also writes them to a file, which is looked for after the run, so that a report
# in a child process fails the pass even where the test that started it passed.
# Usage: scripts/sanitizers.sh BUILD_DIR   (builds in BUILD_DIR-asan and BUILD_DIR-tsan)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
base=${1:?usage: $0 BUILD_DIR}
asan_dir=$base-asan
tsan_dir=$base-tsan
jobs=$(nproc)

reports=$(mktemp -d "${TMPDIR:-/tmp}/ringfile-sanitizer-reports-XXXXXX")
chmod 1777 "$reports"  # tests run some programs as another user
trap 'rm -rf "$reports"' EXIT
# Leak checking stays on (ASan's default); a report is logged and ends the process.
export ASAN_OPTIONS="log_path=$reports/asan:abort_on_error=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$reports/tsan:halt_on_error=1:second_deadlock_stack=1"

check_reports() {
  local found
  found=$(find "$reports" -type f | sort)
  [ -z "$found" ] && return 0
  echo "sanitizer reports ($1):" >&2
  for report in $found; do
    echo "==== $report" >&2
    cat "$report" >&2
  done
  return 1
}

run_pass() {  # NAME DIR JOBS CTEST_ARGS...
  local name=$1 dir=$2 parallel=$3
  shift 3
  local status=0
  (cd "$dir" && ctest --output-on-failure --timeout 600 -j "$parallel" "$@") || status=$?
  check_reports "$name" || status=1
  [ "$status" -eq 0 ] || { echo "$name pass failed" >&2; exit "$status"; }
}

started=$(date +%s)
echo "== ASan+UBSan build (clang): the test binaries and the fuzz targets, no benchmarks"
# Line tables only (-g1), as the plain build: the reports keep file and line, the builds take less.
debug_flags="-O2 -g1 -DNDEBUG"
CC=clang CXX=clang++ cmake -S "$root" -B "$asan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$debug_flags" -DRINGFILE_WERROR=ON \
  -DRINGFILE_FUZZ=ON -DRINGFILE_BUILD_BENCH=OFF > /dev/null
asan_targets=(ringfile_tests ringfile_program_tests consumer_fuzz tap_fuzz status_fuzz)
# The bridge's tests (and ringfile-bridge) exist where libnats-dev is installed. Their kill loop
# runs at a fifth of its plain-suite scale here: the plain suite has already run it in full.
[ -d "$asan_dir/tests/bridge" ] && asan_targets+=(ringfile_bridge_tests)
cmake --build "$asan_dir" -j "$jobs" --target "${asan_targets[@]}"
echo "== ASan+UBSan: the suite and the fuzz targets ($(( $(date +%s) - started )) s so far)"
# As many tests at a time as CPUs, as the plain pass: one at a time, the suite took 241 s of a
# CI run of 1489 s on 2 CPUs (50 of them one test since shortened to 7); two at a time, 106 s.
RINGFILE_BRIDGE_KILLS=${RINGFILE_BRIDGE_KILLS:-10} RINGFILE_FAULT_KILLS=${RINGFILE_FAULT_KILLS:-100} run_pass "ASan+UBSan" "$asan_dir" "$jobs"

echo "== TSan build (gcc): the library's stress, thread and fault tests (ringfile_tsan_tests)"
cmake -S "$root" -B "$tsan_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$debug_flags" -DRINGFILE_WERROR=ON -DRINGFILE_TSAN=ON \
  -DRINGFILE_BUILD_BENCH=OFF > /dev/null
cmake --build "$tsan_dir" -j "$jobs" --target ringfile_tsan_tests
echo "== TSan: stress, thread and fault tests ($(( $(date +%s) - started )) s so far)"
# One at a time: each stress test keeps both CPUs busy by itself.
run_pass "TSan" "$tsan_dir" 1 -R "stress|threads"
RINGFILE_FAULT_KILLS=${RINGFILE_FAULT_KILLS:-100} run_pass "TSan" "$tsan_dir" 1 -L fault
echo "== sanitizer passes done in $(( $(date +%s) - started )) s"
