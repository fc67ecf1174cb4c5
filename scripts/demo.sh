#!/usr/bin/env bash
# The live demo: a ring, producers and consumers in separate processes.
# Until the ringfile-producer/consumer/status programs exist, it runs the example program.
set -euo pipefail
build_dir=${1:?build directory}
exec "$build_dir/examples/ringfile-example"
