#!/bin/bash
# Small records through the programs: P ringfile-producer --synthetic processes into a ring on
# tmpfs, read by N ringfile-consumer --discard, all started by this script. Prints the producers'
# and each consumer's records/s (from their --json summaries), for comparison with the slot_ring
# ceiling of ringfile-bench-throughput run just before or after.
#
#   bench/programs/small_records.sh BUILD_DIR [CONSUMERS=1] [RECORDS=5000000] [SIZE=64] [PRODUCERS=1]
#
# RECORDS is per producer; each consumer reads them all.
set -euo pipefail

build=${1:?usage: small_records.sh BUILD_DIR [CONSUMERS] [RECORDS] [SIZE]}
consumers=${2:-1}
records=${3:-5000000}
size=${4:-64}
producers=${5:-1}
producer=$build/producer/ringfile-producer
consumer=$build/consumer/ringfile-consumer
status=$build/status/ringfile-status
for program in "$producer" "$consumer" "$status"; do
  [ -x "$program" ] || { echo "small_records.sh: $program not built" >&2; exit 2; }
done

work=$(mktemp -d /dev/shm/ringfile-small-records.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
ring=$work/small.ring
"$producer" "$ring" --create --size 256M --count 0 --quiet

for index in $(seq 1 "$consumers"); do
  "$consumer" "$ring" --name "reader$index" --from earliest --discard --count $((records * producers)) --json --quiet \
    > "$work/consumer$index.json" &
done
# The producer starts once every consumer is attached (and so holds it back, block policy).
until [ "$("$status" "$ring" --json | grep -o '"alive":true' | wc -l)" -eq "$consumers" ]; do :; done
"$producer" "$ring" --synthetic --record-size "$size" --count "$records" --procs "$producers" --json --quiet \
  > "$work/producer.json"
wait

rate() { grep -o '"records_per_s":[0-9.e+]*' "$1" | cut -d: -f2; }
echo "records of $size B, $records per producer, $producers producer(s) -> $consumers consumer(s)"
echo "producers' records/s: $(rate "$work/producer.json")"
for index in $(seq 1 "$consumers"); do
  echo "consumer $index records/s: $(rate "$work/consumer$index.json") (from its attach, so it includes the wait for the producer)"
done
