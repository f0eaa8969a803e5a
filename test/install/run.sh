#!/usr/bin/env bash
# Installs a caraway build tree into a scratch prefix, then builds and runs the
# app in this directory against that prefix alone: proves the installed
# package (headers, libraries, CMake config, RPATHs) works for an application.
#
# usage: run.sh <caraway-build-dir> [<cmake> [<c++-compiler> [<config>]]]
set -euo pipefail

if [[ $# -lt 1 ]]; then
  echo "usage: $0 <caraway-build-dir> [<cmake> [<c++-compiler> [<config>]]]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd)
cmake=${2:-cmake}
cxx=${3:-}
config=${4:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)

work=$(mktemp -d)
cleanup() {
  rm -rf "$work"
}
trap cleanup EXIT
prefix=$work/prefix

fail() {
  echo "install test: FAIL: $*" >&2
  exit 1
}

# Runs a noisy step quietly; shows its output only when it fails.
quiet() {
  local log=$work/step.log
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    fail "command failed: $*"
  fi
}

# -- install ----------------------------------------------------------------
install_args=(--install "$build_dir" --prefix "$prefix")
# A single-config build installs its per-config target file only when asked
# for that config, so pass the one the tree was built with.
[[ -n "$config" ]] && install_args+=(--config "$config")
quiet "$cmake" "${install_args[@]}"

[[ -f $prefix/include/caraway/caraway.hpp ]] \
  || fail "no include/caraway/caraway.hpp in the installed tree"

# The library directory depends on the platform (lib, lib64, lib/<triplet>).
mapfile -t configs < <(find "$prefix" -path '*/cmake/caraway/carawayConfig.cmake')
[[ ${#configs[@]} -eq 1 ]] \
  || fail "expected one carawayConfig.cmake, found ${#configs[@]}"
package_dir=$(dirname "${configs[0]}")
lib_dir=$(dirname "$(dirname "$package_dir")")
for f in carawayConfigVersion.cmake carawayTargets.cmake FindCAF.cmake \
         caraway_helpers.cmake; do
  [[ -f $package_dir/$f ]] || fail "$f is not installed next to the config"
done
[[ -f $lib_dir/libcaraway_core.so ]] || fail "libcaraway_core.so not installed"

# An installed package must not point back into the tree it was built from.
if grep -rlF -e "$build_dir" -e "$source_dir" "$package_dir" >&2; then
  fail "installed CMake files reference the build or source tree"
fi

# Each installed library must find its caraway dependencies inside the
# prefix on its own, wherever the prefix is.
for lib in "$lib_dir"/libcaraway_*.so; do
  deps=$(env -u LD_LIBRARY_PATH ldd "$lib")
  if grep -q 'not found' <<<"$deps"; then
    echo "$deps" >&2
    fail "$(basename "$lib") has unresolved dependencies"
  fi
  if grep 'libcaraway_' <<<"$deps" | grep -vqF "$lib_dir/"; then
    echo "$deps" >&2
    fail "$(basename "$lib") loads caraway libraries from outside the prefix"
  fi
done

# -- build the app against the prefix ---------------------------------------
configure_args=(-S "$here" -B "$work/app" -DCMAKE_PREFIX_PATH="$prefix")
[[ -n "$config" ]] && configure_args+=(-DCMAKE_BUILD_TYPE="$config")
[[ -n "$cxx" ]] && configure_args+=(-DCMAKE_CXX_COMPILER="$cxx")
quiet "$cmake" "${configure_args[@]}"
found=$(sed -n 's/^caraway_DIR:PATH=//p' "$work/app/CMakeCache.txt")
[[ $found == "$package_dir" ]] \
  || fail "found caraway in $found instead of the scratch prefix"
quiet "$cmake" --build "$work/app" -j2

# -- run it without any library path help -----------------------------------
expected="installed caraway: 40 + 2 = 42"
check_app() {
  local name=$1 exe=$2 out
  [[ -x $exe ]] || fail "$name was not built"
  if env -u LD_LIBRARY_PATH ldd "$exe" | grep -F libcaraway_ \
       | grep -vqF "$lib_dir/"; then
    fail "$name loads caraway libraries from outside the prefix"
  fi
  out=$(cd "$work" && env -u LD_LIBRARY_PATH timeout 120 "$exe") \
    || fail "$name exited with status $?"
  [[ $out == "$expected" ]] || fail "$name printed '$out', not '$expected'"
  echo "$name: $out"
}
check_app app "$work/app/app"
check_app helper_app "$work/app/helper_app"
[[ -f $work/app/libhelper_app_tasks.so ]] \
  || fail "caraway_add_app did not build the task library"

# An app installed from caraway_add_app keeps finding caraway.
quiet "$cmake" --install "$work/app" --prefix "$work/app-prefix"
check_app "installed helper_app" "$work/app-prefix/bin/helper_app"

echo "install test: OK"
