#!/usr/bin/env bash
# One entry point for a fresh Debian machine (run as root, or with sudo for the packages):
#   scripts/dev.sh demo   build everything and run the live demo
#   scripts/dev.sh test   build everything and run the test suite
# Extra CMake options may come in CMAKE_ARGS, e.g. CMAKE_ARGS=-DRINGFILE_SANITIZE=ON.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
# curl and pkgconf are for tests: a real HTTP client for ringfile-status --listen, and the
# pkg-config build against an installed ringfile.
packages=(build-essential cmake libboost-dev doctest-dev libcli11-dev curl pkgconf)

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

build() {
  install_missing_packages
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRINGFILE_WERROR=ON ${CMAKE_ARGS:-}
  cmake --build "$build_dir" -j "$(nproc)"
}

case "${1:-}" in
  demo)
    build
    exec "$root/scripts/demo.sh" "$build_dir"
    ;;
  test)
    build
    cd "$build_dir"
    exec ctest --output-on-failure --timeout 300 -j 1
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
