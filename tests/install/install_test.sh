#!/usr/bin/env bash
# cmake --install puts everything under a prefix, and a project outside the tree builds against
# it twice, with find_package(ringfile) and with pkg-config, and runs. The installed programs run,
# their manual pages render and their bash completions complete.
#   install_test.sh BUILD_DIR
set -euo pipefail
build_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ringfile-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix=$work/prefix
cmake --install "$build_dir" --prefix "$prefix" >/dev/null

libdir=$(cd "$prefix" && dirname "$(find . -name libringfile.a | head -1)")
[ -n "$libdir" ] || fail "no libringfile.a under the prefix"
for file in bin/ringfile-producer bin/ringfile-consumer bin/ringfile-status \
            include/ringfile/consumer.hpp include/ringfile/seek.hpp include/ringfile/consumer_table.hpp \
            include/ringfile/version.hpp include/ringfile/format/file_header.hpp \
            "$libdir/cmake/ringfile/ringfileConfig.cmake" "$libdir/cmake/ringfile/ringfileConfigVersion.cmake" \
            "$libdir/cmake/ringfile/ringfileTargets.cmake" "$libdir/pkgconfig/ringfile.pc" \
            share/man/man1/ringfile-consumer.1 share/bash-completion/completions/ringfile-consumer \
            share/doc/ringfile/LICENSE; do
  [ -e "$prefix/$file" ] || fail "cmake --install did not install $file"
done
[ -z "$(find "$prefix/include" -name '*.in' -o -name '*.cpp')" ] || fail "sources or templates among the headers"

# find_package(ringfile), linking ringfile::ringfile.
cmake -S "$here/outside_project" -B "$work/outside" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/outside" >/dev/null
"$work/outside/outside" "$work/by-cmake.ring" | grep -q "3 records round trip" || fail "the find_package build did not run"

# pkg-config, with the compiler alone.
if command -v pkg-config >/dev/null; then
  flags=$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --cflags --libs --static ringfile)
  # shellcheck disable=SC2086  # the flags are words
  c++ -std=c++20 -O1 "$here/outside_project/main.cpp" -o "$work/by-pkg-config" $flags
  "$work/by-pkg-config" "$work/by-pkg-config.ring" | grep -q "3 records round trip" || fail "the pkg-config build did not run"
  [ "$(PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" pkg-config --modversion ringfile)" = \
    "$("$prefix/bin/ringfile-status" --version | cut -d' ' -f2)" ] || fail "ringfile.pc and --version disagree"
else
  echo "skipped the pkg-config build: pkg-config not found (Debian package pkgconf)"
fi

# The installed programs, their manual pages and completions.
for program in ringfile-producer ringfile-consumer ringfile-status; do
  "$prefix/bin/$program" --version | grep -q "^$program [0-9]" || fail "$program --version"
  if command -v man >/dev/null; then
    MANWIDTH=80 man -l "$prefix/share/man/man1/$program.1" 2>/dev/null | grep -q -- "--help" ||
      fail "the manual page of $program does not render"
  fi
done
completions=$(bash -c "
  source '$prefix/share/bash-completion/completions/ringfile-consumer'
  COMP_WORDS=(ringfile-consumer ring --for); COMP_CWORD=2; _ringfile_consumer; echo \"\${COMPREPLY[*]}\"
  COMP_WORDS=(ringfile-consumer ring --format j); COMP_CWORD=3; _ringfile_consumer; echo \"\${COMPREPLY[*]}\"")
[ "$completions" = $'--format\njsonl' ] || fail "bash completion gave: $completions"
echo "installed under a prefix; find_package and pkg-config builds run; programs, manual pages and completions work"
