#!/usr/bin/env bash
# Builds caraway with sanitizers and runs the unit suite under them:
#   scripts/sanitize.sh address,undefined   (into build-asan/)
#   scripts/sanitize.sh thread              (into build-tsan/)
# Any sanitizer report fails the run. Extra arguments go to ctest, e.g.
# `-L cluster` to run the cluster tests instead.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

sanitizers=${1:?usage: scripts/sanitize.sh address,undefined|thread [ctest args...]}
shift
case $sanitizers in
  thread) dir=build-tsan ;;
  *) dir=build-asan ;;
esac
ctest_args=("$@")
if [[ ${#ctest_args[@]} -eq 0 ]]; then
  # The install test rebuilds an app against the installed package; it
  # checks packaging, not memory or threads.
  ctest_args=(-L unit -LE install)
fi

bash scripts/setup.sh
caf=()
if [[ $sanitizers == *thread* ]]; then
  # ThreadSanitizer needs CAF instrumented too (see scripts/caf-tsan.sh).
  prefix=$root/$dir/caf
  bash scripts/caf-tsan.sh "$prefix"
  caf=(-DCAF_INCLUDE_DIR="$prefix/include"
    -DCAF_CORE_LIBRARY="$prefix/lib/libcaf_core.so"
    -DCAF_IO_LIBRARY="$prefix/lib/libcaf_io.so"
    -DCAF_OPENSSL_LIBRARY="$prefix/lib/libcaf_openssl.so")
fi
# Optimised, with line numbers in reports.
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCARAWAY_SANITIZERS="$sanitizers" "${caf[@]}"
# Everything: the unit label covers the examples and the bench smoke run.
cmake --build "$dir" -j2

supp="$root/test/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
# handle_segv=0: cluster.workers crashes a worker process on purpose and
# checks that the error names SIGSEGV, which ThreadSanitizer would otherwise
# turn into exit code 66.
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:handle_segv=0:suppressions=$supp/tsan.supp"
ctest --test-dir "$dir" --output-on-failure -j2 "${ctest_args[@]}"
