#!/usr/bin/env bash
# An application with no cluster address and --caraway-worker-processes: it
# starts a head node of its own on loopback, runs its tasks in worker
# processes there, and leaves nothing running when it exits.
#
#   embedded_processes.sh <bin dir> <cluster app> <its task library>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$library" "$bin_dir/fib"

# Crashes cost one worker process, as in a cluster.
run crash 120 "$app" crash "$work" --caraway-worker-processes
((status == 0)) || fail "the crash driver exited with $status"
out=$work/crash.out
grep -Eq '^runs-in caraway-worker [0-9]+$' "$out" \
  || fail "tasks do not run in worker processes: $(cat "$out")"
grep -Eq '^retried [0-9]+$' "$out" || fail "the retried task did not return"
grep '^abort-error ' "$out" | grep -q 'signal 6 (SIGABRT)' \
  || fail "abort: $(grep abort-error "$out")"
grep -Eq '^\(process_name pid=[0-9]+ node=[0-9a-f]{8}\) process_name ran$' \
  "$work/crash.err" || fail "a task's output did not reach the driver"
grep -Eq '^after caraway-worker [0-9]+$' "$out" \
  || fail "no task ran after the crashes"
eventually 10 "the application's head or workers outlived it" \
  test -z "$(stray_processes)"
echo "ok: an application with worker processes and no cluster"

# Nested tasks, as fast as the issue asks (under 2 s for fib(20)).
run fib 60 "$bin_dir/fib" --caraway-worker-processes
((status == 0)) || fail "fib exited with $status"
grep -qx 'fib(20) = 6765' "$work/fib.out" || fail "fib printed $(cat "$work/fib.out")"
echo "ok: nested fib(20): $(cat "$work/fib.err")"

# No caraway-node to run: the error says what was tried and what to set.
run missing 30 "$app" crash "$work" --caraway-worker-processes \
  --caraway-node-binary /nonexistent/caraway-node
((status != 0)) || fail "the driver ran without a head"
grep -q '/nonexistent/caraway-node.*--caraway-node-binary' "$work/missing.err" \
  || fail "unclear error: $(cat "$work/missing.err")"
echo "ok: a missing caraway-node is named"
echo "PASS"
