#!/usr/bin/env bash
# Builds the CAF that Debian ships (the source of the installed libcaf-dev,
# from Debian's archive) with ThreadSanitizer into <prefix>:
#   scripts/caf-tsan.sh build-tsan/caf
# ThreadSanitizer sees synchronisation only in code it instrumented. CAF's
# mailboxes and reference counts live in libcaf_core.so, so against Debian's
# uninstrumented binary every message handed from one thread to another reads
# as a data race. The sources are checked against the hash in Debian's .dsc.
set -euo pipefail

prefix=$(realpath -m "${1:?usage: scripts/caf-tsan.sh <prefix>}")
if [[ -f $prefix/lib/libcaf_core.so && -f $prefix/lib/libcaf_io.so
  && -f $prefix/lib/libcaf_openssl.so ]]; then
  exit 0
fi

if ! command -v curl >/dev/null; then
  sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get install -y --no-install-recommends curl ca-certificates
fi
archive=http://deb.debian.org/debian/pool/main/a/actor-framework
# "0.17.6-2.1+b1" -> source version 0.17.6-2.1, upstream version 0.17.6.
binary_version=$(dpkg-query -W -f='${Version}' libcaf-dev)
source_version=${binary_version%+b*}
upstream=${source_version%-*}
dsc=actor-framework_${source_version}.dsc
orig=actor-framework_${upstream}.orig.tar.gz

work=$(mktemp -d -t caf-tsan.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
echo "caf-tsan: fetching $orig from Debian's archive"
curl -fsS --retry 3 -o "$dsc" "$archive/$dsc"
curl -fsS --retry 3 -o "$orig" "$archive/$orig"
expected=$(awk -v f="$orig" '/^Checksums-Sha256:/ {on = 1; next}
  /^[^ ]/ {on = 0} on && $3 == f {print $1}' "$dsc")
[[ -n $expected ]] || { echo "caf-tsan: no checksum for $orig in $dsc" >&2; exit 1; }
echo "$expected  $orig" | sha256sum -c --quiet
tar xzf "$orig"
src=$work/actor-framework-$upstream
# Built as Debian builds it, with the one include that newer compilers need
# and the release tarball lacks.
sed -i '0,/#include <cstddef>/s//#include <cstddef>\n#include <limits>/' \
  "$src/libcaf_io/caf/io/network/receive_buffer.hpp"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_INSTALL_PREFIX="$prefix" \
  -DCMAKE_CXX_FLAGS="-fsanitize=thread" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" \
  -DCAF_NO_EXAMPLES=yes -DCAF_NO_UNIT_TESTS=yes \
  -DCAF_NO_TOOLS=yes -DCAF_NO_PYTHON=yes -DCAF_NO_OPENCL=yes \
  -DCAF_NO_SUMMARY=yes >/dev/null
cmake --build "$work/build" -j2
cmake --install "$work/build" >/dev/null
echo "caf-tsan: installed into $prefix"
