#!/usr/bin/env bash
# cpack -G DEB makes a Debian package with everything cmake --install puts in place, under /usr,
# whose programs run. Unpacked with dpkg-deb into a scratch directory (a real dpkg -i would
# change the machine the tests run on).
#   package_test.sh BUILD_DIR
set -euo pipefail
build_dir=$1
if ! command -v dpkg-deb >/dev/null || ! command -v cpack >/dev/null; then
  echo "skipped: dpkg-deb or cpack not found"
  exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/ringfile-package-XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

(cd "$work" && cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work" >/dev/null) || fail "cpack -G DEB failed"
package=$(ls "$work"/ringfile_*.deb)
[ -f "$package" ] || fail "no ringfile_*.deb"
info=$(dpkg-deb --info "$package")
grep -q "^ Package: ringfile$" <<<"$info" || fail "package name: $info"
version=$("$build_dir/status/ringfile-status" --version | cut -d' ' -f2)
grep -q "^ Version: $version$" <<<"$info" || fail "package version is not $version: $info"
grep -q "^ Depends: .*libc6" <<<"$info" || fail "no Depends on libc6: $info"
contents=$(dpkg-deb --contents "$package")
for file in ./usr/bin/ringfile-producer ./usr/bin/ringfile-consumer ./usr/bin/ringfile-status \
            ./usr/include/ringfile/consumer.hpp ringfileConfig.cmake ringfile.pc \
            ./usr/share/man/man1/ringfile-status.1 ./usr/share/bash-completion/completions/ringfile-status; do
  grep -q -- "$file" <<<"$contents" || fail "$file is not in the package"
done
dpkg-deb -x "$package" "$work/root"
for program in ringfile-producer ringfile-consumer ringfile-status; do
  "$work/root/usr/bin/$program" --version | grep -q "^$program $version" || fail "$program from the package does not run"
done
ring=$work/packaged.ring
echo "from the package" | "$work/root/usr/bin/ringfile-producer" "$ring" --create --size 1M --quiet
[ "$("$work/root/usr/bin/ringfile-consumer" "$ring" --from earliest --count 1 --quiet)" = "from the package" ] ||
  fail "the packaged programs do not pass a record"
echo "built $(basename "$package"); its programs run"
