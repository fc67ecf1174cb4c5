#!/usr/bin/env bash
# The live demo: a 1 GiB ring in a temporary directory, two synthetic producers, two consumers
# (one verifying every record), ringfile-status --watch for about ten seconds, a clean stop, and
# the verification result. Works in a terminal and in a log (no terminal: no redraw, no colour).
#   scripts/demo.sh BUILD_DIR
# DEMO_RING_SIZE (default 1G) and DEMO_SECONDS (default 10) change the ring and the watch time.
set -euo pipefail

build_dir=${1:?usage: scripts/demo.sh BUILD_DIR}
producer=$build_dir/producer/ringfile-producer
consumer=$build_dir/consumer/ringfile-consumer
status=$build_dir/status/ringfile-status
for program in "$producer" "$consumer" "$status"; do
  if [ ! -x "$program" ]; then
    echo "demo.sh: $program is missing; build first (bash scripts/dev.sh demo)" >&2
    exit 1
  fi
done
ring_size=${DEMO_RING_SIZE:-1G}
watch_seconds=${DEMO_SECONDS:-10}

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/ringfile-demo.XXXXXX")
ring=$work_dir/demo.ring
background_pids=()
cleanup() {
  for pid in "${background_pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work_dir"
}
trap cleanup EXIT
trap 'echo; echo "demo.sh: interrupted" >&2; exit 130' INT TERM

if [ -t 1 ]; then bold=$'\e[1m' green=$'\e[32;1m' red=$'\e[31;1m' plain=$'\e[0m'; else bold='' green='' red='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }

# Waits for a background process to end, at most $2 seconds; its exit code goes to $exit_code.
wait_for_exit() {
  local pid=$1 seconds=$2
  exit_code=0
  for ((tick = 0; tick < seconds * 10; tick++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      wait "$pid" || exit_code=$?
      return
    fi
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  echo "demo.sh: process $pid did not stop within ${seconds}s" >&2
  exit_code=124
}

# Waits until ringfile-status sees $1 consumers attached (it prints one JSON line per ring).
wait_for_consumers() {
  local wanted=$1
  for ((tick = 0; tick < 100; tick++)); do
    local attached
    attached=$("$status" "$ring" --json --interval 0 | grep -o '"holds_back":' | wc -l || true)
    [ "$attached" -ge "$wanted" ] && return 0
    sleep 0.05
  done
  echo "demo.sh: the consumers did not attach within 5 s; see $work_dir/*.err" >&2
  exit 1
}

top_level_records() { sed -n 's/^{"records":\([0-9]*\).*/\1/p' "$1"; }

step "A $ring_size ring (block policy: producers wait for consumers that hold them back) in $work_dir"
"$producer" "$ring" --create --size "$ring_size" --policy block --count 0 --quiet

step "Two consumers: 'verifier' checks every record, 'tap' never holds producers back"
# --until-idle: each stops once the producers have stopped and it has read everything.
"$consumer" "$ring" --name verifier --verify --until-idle 2s --json >"$work_dir/verifier.json" 2>"$work_dir/verifier.err" &
verifier_pid=$!
background_pids+=("$verifier_pid")
"$consumer" "$ring" --name tap --no-hold --discard --until-idle 2s --json >"$work_dir/tap.json" 2>"$work_dir/tap.err" &
tap_pid=$!
background_pids+=("$tap_pid")
wait_for_consumers 2

step "Two synthetic producer processes: records of 64 B to 16 KiB, 100 MiB/s each"
"$producer" "$ring" --synthetic --procs 2 --record-size 64-16K --rate 100M --json \
  >"$work_dir/producers.json" 2>"$work_dir/producers.err" &
producers_pid=$!
background_pids+=("$producers_pid")

step "ringfile-status --watch for ${watch_seconds} s"
"$status" "$ring" --watch 1s --duration "${watch_seconds}s"

step "Stopping: SIGINT to the producers (each commits its current record), consumers drain and stop"
kill -INT "$producers_pid"
wait_for_exit "$producers_pid" 30
producers_code=$exit_code
wait_for_exit "$verifier_pid" 60
verifier_code=$exit_code
wait_for_exit "$tap_pid" 60
tap_code=$exit_code
cat "$work_dir/producers.err" "$work_dir/verifier.err" "$work_dir/tap.err"

step "Verification"
written=$(top_level_records "$work_dir/producers.json")
verified=$(top_level_records "$work_dir/verifier.json")
if [ "$producers_code" = 0 ] && [ "$verifier_code" = 0 ] && [ "$tap_code" = 0 ] && [ -n "$written" ] &&
  [ "$written" = "$verified" ]; then
  printf '%sOK%s: the verifier read all %s records the producers wrote, each once, in order, intact.\n' \
    "$green" "$plain" "$written"
  exit 0
fi
printf '%sFAILED%s: producers exit %s (%s records), verifier exit %s (%s records), tap exit %s\n' \
  "$red" "$plain" "$producers_code" "${written:-?}" "$verifier_code" "${verified:-?}" "$tap_code" >&2
exit 1
