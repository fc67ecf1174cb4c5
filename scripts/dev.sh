#!/usr/bin/env bash
# One entry point for a fresh Debian machine (run as root, or with sudo for the packages):
#   scripts/dev.sh demo   build everything and run the live demo
#   scripts/dev.sh test   build everything and run the test suite, then again under the
#                         sanitizers (scripts/sanitizers.sh; RINGFILE_SANITIZERS=0 skips them)
# Extra CMake options may come in CMAKE_ARGS, e.g. CMAKE_ARGS=-DRINGFILE_SANITIZE=ON.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
# clang, libclang-rt-14-dev and libfuzzer-14-dev are for the sanitizer passes and the fuzz
# targets; curl and pkgconf for tests: a real HTTP client for ringfile-status --listen, and the
# pkg-config build against an installed ringfile.
packages=(build-essential cmake libboost-dev doctest-dev libcli11-dev
          clang libclang-rt-14-dev libfuzzer-14-dev curl pkgconf
          nats-server libnats-dev)  # ringfile-bridge and its tests
# The benchmarks' iceoryx baseline (ringfile-bench-throughput, ringfile-bench-pingpong): `demo`
# builds the benchmarks.
bench_packages=(libiceoryx-posh-dev iceoryx)

install_missing_packages() {
  local missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing missing packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# Line tables (-g1) rather than full debug information: stack traces and profiles keep their file
# and line, and a build on 2 cores takes minutes less. CMAKE_ARGS: more cmake options.
build() {
  install_missing_packages
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DRINGFILE_WERROR=ON "$@" ${CMAKE_ARGS:-}
  cmake --build "$build_dir" -j "$(nproc)"
}

case "${1:-}" in
  demo)
    packages+=("${bench_packages[@]}")
    build -DRINGFILE_BUILD_BENCH=ON
    exec "$root/scripts/demo.sh" "$build_dir"
    ;;
  test)
    # The benchmarks are built by `demo` (and by hand, see bench/README.md); no test runs them.
    build -DRINGFILE_BUILD_BENCH=OFF
    # As many tests at a time as CPUs: the tests wait on conditions, not on time, and pass side
    # by side (a loaded machine is what CI gives them anyway); one at a time took 169 s of a CI
    # run of 1469 on 2 CPUs.
    (cd "$build_dir" && ctest --output-on-failure --timeout 300 -j "$(nproc)")
    [ "${RINGFILE_SANITIZERS:-1}" = 0 ] || "$root/scripts/sanitizers.sh" "$build_dir"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
