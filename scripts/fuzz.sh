#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz) with clang into build-fuzz/ and
# runs each: first over its kept inputs in test/fuzz/corpus/<target>/
# (regression cases: inputs that once crashed), then fuzzing from them.
#   scripts/fuzz.sh                 # 20000 runs per target (CI)
#   scripts/fuzz.sh --runs N
#   scripts/fuzz.sh --seconds S     # a long run: S seconds per target
# A crash, leak or sanitizer report fails the run and leaves the input in
# build-fuzz/artifacts/.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

limit=(-runs=20000)
case ${1:-} in
  --runs) limit=(-runs="${2:?--runs N}") ;;
  --seconds) limit=(-max_total_time="${2:?--seconds S}") ;;
  "") ;;
  *) echo "usage: scripts/fuzz.sh [--runs N | --seconds S]" >&2; exit 2 ;;
esac

bash scripts/setup.sh
# clang and libFuzzer only for this script: the build needs neither.
missing=()
for pkg in clang-14 libfuzzer-14-dev; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "fuzz: installing ${missing[*]}"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

targets=(bridge data_path config)
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DCARAWAY_FUZZ=ON \
  -DCARAWAY_BUILD_APPS=OFF -DCARAWAY_BUILD_TESTS=OFF
cmake --build build-fuzz -j2 --target "${targets[@]/#/caraway-fuzz-}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The drivers' TLS files would make the config target read real files.
unset CARAWAY_ADDRESS CARAWAY_LIBRARIES CARAWAY_TLS_CA CARAWAY_TLS_CERT \
  CARAWAY_TLS_KEY
mkdir -p build-fuzz/artifacts
for target in "${targets[@]}"; do
  work=$(mktemp -d -t "caraway-fuzz-$target.XXXXXX")
  kept=test/fuzz/corpus/$target
  [[ -d $kept ]] && cp "$kept"/* "$work"/ 2>/dev/null || true
  echo "fuzz: $target (${limit[*]}, $(find "$work" -type f | wc -l) kept inputs)"
  # -timeout: an input that hangs fails the run (as a value holding one of
  # Boost's message placeholders once did).
  if ! build-fuzz/bin/caraway-fuzz-"$target" "${limit[@]}" -max_len=4096 \
      -timeout=30 -artifact_prefix="build-fuzz/artifacts/$target-" "$work" \
      >"$work.log" 2>&1; then
    tail -60 "$work.log"
    echo "FAIL: caraway-fuzz-$target; the input is in build-fuzz/artifacts/" >&2
    exit 1
  fi
  grep -E "^(#[0-9]+ +DONE|Done)" "$work.log" | tail -2
  rm -rf "$work" "$work.log"
done
echo "fuzz: every target passed"
