#!/usr/bin/env bash
# cluster.workers: a head running tasks in worker processes
# (--worker-mode processes). Tasks run in caraway-worker processes, not in
# the daemon; a task that aborts, exits or segfaults fails alone with a
# worker_crashed_error naming the signal or exit code and the node, and one
# with a retry runs again in another worker and returns. Idle workers end. The daemon keeps
# serving throughout; the job's workers end with its driver, and none is
# left once the cluster stops. Two versions of one program run side by side,
# each with its own code. The node's store socket refuses processes the node
# did not start. Each worker's output is in a file of its own
# under the node's data dir, which the crash errors name, and reaches the
# driver prefixed with the task, unless it asks not to.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$bin_dir/caraway-worker" "$bin_dir/caraway-version-1" \
  "$bin_dir/caraway-version-2"

# No worker process of <pid> runs (reaped or not).
no_workers_of() {
  local pid
  for pid in $(workers_of "$1"); do
    running "$pid" && return 1
  done
  return 0
}

# The worker processes whose parent is <pid>.
workers_of() {
  pgrep -P "$1" -x caraway-worker || true
}

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 2 --worker-mode processes \
  --libraries "$library" --data-dir "$work/data" \
  --worker-idle-timeout-ms 1000 "${timing[@]}"
head=$last_pid
wait_listening head "$head"
head_id=$(node_id_of head)

run crash 120 "$app" crash "$work" --caraway-address "$address"
((status == 0)) || fail "the crash driver exited with $status"
out=$work/crash.out
grep -Eq '^runs-in caraway-worker [0-9]+$' "$out" \
  || fail "tasks do not run in worker processes: $(grep runs-in "$out")"
[[ -f $work/once ]] || fail "the retried task never crashed"
grep -Eq '^retried [0-9]+$' "$out" || fail "the retried task did not return"
for how in abort exit segv; do
  grep -q "^$how-error " "$out" || fail "$how: no worker_crashed_error"
  grep "^$how-error " "$out" | grep -q "node $head_id" \
    || fail "$how: the error does not name the node"
done
grep '^abort-error ' "$out" | grep -q 'signal 6 (SIGABRT)' \
  || fail "abort: the error does not name SIGABRT: $(grep abort-error "$out")"
grep '^exit-error ' "$out" | grep -q 'exited with code 3' \
  || fail "exit: the error does not name the exit code"
grep '^segv-error ' "$out" | grep -q 'signal 11 (SIGSEGV)' \
  || fail "segv: the error does not name SIGSEGV"
grep '^abort-error ' "$out" | grep -q "its output is in $work/data/logs/worker-1-" \
  || fail "abort: the error does not name the worker's log files"
grep -qs '^process_name ran$' "$work"/data/logs/worker-1-*.out \
  || fail "a task's output is not in its worker's log file"
grep -Eq "^\(process_name pid=[0-9]+ node=${head_id:0:8}\) process_name ran$" \
  "$work/crash.err" || fail "a task's output did not reach the driver"
grep -Eq '^after caraway-worker [0-9]+$' "$out" \
  || fail "no task ran after the crashes"
running "$head" || fail "the head died with its workers"
echo "ok: crashes failed only their tasks, with their causes"

# The node's store lends out every object: only its own worker processes
# may use it, not another process of the same user.
run store_probe 30 "$tcp" unix "$work/data/store.sock"
((status == 0)) || fail "caraway-test-tcp unix exited with $status"
grep -qx "peer closed without answering" "$work/store_probe.out" \
  || fail "the store served a stranger: $(cat "$work/store_probe.out")"
grep -q "refusing an object store connection: it is not a worker process" \
  "$work/head.err" || fail "the head did not log the refused store connection"
echo "ok: the store refuses a process the node did not start"

# A task waiting for a child still queued for a lease runs it itself; one
# that needs more than the waiting task holds runs in another worker.
run inline 60 "$app" inline --caraway-address "$address"
((status == 0)) || fail "the inline driver exited with $status"
read -r _ parent small big < <(grep '^inline ' "$work/inline.out") \
  || fail "no inline line: $(cat "$work/inline.out" "$work/inline.err")"
[[ -n $big && $small == "$parent" && $big != "$parent" ]] \
  || fail "children ran in $small and $big, their parent in $parent"
# What each printed reaches the driver once, with the prefix of the task
# and process that printed it: the child run inline by its own name, the
# parent's by its name again after, the other worker's child not wrapped in
# its parent's prefix as well.
prefix="node=${head_id:0:8})"
for line in "(own_pid pid=$small $prefix own_pid ran" \
  "(inline_pids pid=$parent $prefix inline_pids waited" \
  "(own_pid pid=$big $prefix own_pid ran"; do
  grep -qxF "$line" "$work/inline.err" \
    || fail "no line '$line' at the driver: $(cat "$work/inline.err")"
done
echo "ok: a waiting task ran its queued child itself"

# `caraway logs` lists the node's workers, the crashed ones too, and shows
# what one printed.
printed=$(grep -l '^process_name ran$' "$work"/data/logs/worker-1-*.out | head -n 1)
pid=${printed%.out}
pid=${pid##*-}
cli logs_all 15 --address "$address" logs
((status == 0)) || fail "caraway logs exited with $status"
head -n 1 "$work/logs_all.out" | grep -q '^NODE  *PID  *JOB  *STATE'   || fail "caraway logs has no header: $(cat "$work/logs_all.out")"
grep -Eq "^${head_id:0:8}  +$pid  +1  +ended .*worker-1-$pid\$" \
  "$work/logs_all.out" || fail "worker $pid is not listed: $(cat "$work/logs_all.out")"
(($(grep -c ' ended ' "$work/logs_all.out") >= 4)) \
  || fail "the crashed workers are not listed: $(cat "$work/logs_all.out")"
# `caraway list workers` is the same listing.
cli list_workers 15 --address "$address" list workers
((status == 0)) \
  && head -n 1 "$work/list_workers.out" | grep -q '^NODE  *PID  *JOB  *STATE' \
  && grep -Eq "^${head_id:0:8}  +$pid  +1  +ended .*worker-1-$pid\$" \
    "$work/list_workers.out" \
  || fail "list workers printed: $(cat "$work/list_workers.out")"
cli logs_one 15 --address "$address" logs --node "${head_id:0:8}" \
  --worker "$pid" --tail 5
((status == 0)) || fail "caraway logs --worker exited with $status"
grep -qx "==> ${printed} <==" "$work/logs_one.out" \
  && grep -qx 'process_name ran' "$work/logs_one.out" \
  || fail "caraway logs --worker printed: $(cat "$work/logs_one.out")"
cli logs_json 15 --address "$address" logs --worker "$pid" --format json
grep -q '"stdout": ".*process_name ran\\n' "$work/logs_json.out" \
  || fail "caraway logs --format json printed: $(cat "$work/logs_json.out")"
cli logs_none 15 --address "$address" logs --worker 1
((status == 1)) && grep -q 'no worker process 1 on a live node' \
  "$work/logs_none.err" || fail "an unknown worker: $(cat "$work/logs_none.err")"
echo "ok: caraway logs lists the node's workers and shows what one printed"

# An actor lives in a worker process of its own; a call that aborts it
# ends only that process: the actor restarts in another, and once out of
# restarts dies saying why.
run actor 120 "$app" actor-crash --caraway-address "$address" \
  --caraway-log-to-driver false
((status == 0)) || fail "the actor driver exited with $status"
out=$work/actor.out
first=$(sed -n 's/^actor-in caraway-worker \([0-9]*\)$/\1/p' "$out")
second=$(sed -n 's/^restarted-in caraway-worker \([0-9]*\)$/\1/p' "$out")
[[ -n $first ]] || fail "the actor does not run in a worker process"
[[ -n $second && $second != "$first" ]] \
  || fail "the actor did not restart in another worker process"
grep -q '^first-error ' "$out" || fail "the crashing call did not fail"
grep '^dead ' "$out" | grep -q 'signal 6 (SIGABRT)' \
  || fail "the dead actor's error does not name SIGABRT: $(grep -E '^(dead|still)' "$out")"
grep '^dead ' "$out" | grep -q "node $head_id" \
  || fail "the dead actor's error does not name the node"
running "$head" || fail "the head died with an actor's worker"
if grep -q 'process_name ran' "$work/actor.err"; then
  fail "output reached a driver with --caraway-log-to-driver false"
fi
echo "ok: actors run in worker processes of their own and restart there"

# The workers of a node share its store: a 64 MiB object one worker made is
# read in place by another (get_view), with no pull and no copy.
elems=8388608
run zero 120 "$app" zero-copy "$elems" --caraway-address "$address"
((status == 0)) || fail "the zero-copy driver exited with $status"
read -r _ maker reader sum pulls before after ns \
  < <(grep '^zero-copy ' "$work/zero.out") \
  || fail "no zero-copy line: $(cat "$work/zero.out" "$work/zero.err")"
[[ -n $reader && $maker != "$reader" ]] \
  || fail "one worker process made and read the object"
((sum == elems * (elems - 1) / 2)) || fail "the view's sum is $sum"
((pulls == 0)) || fail "the reader pulled $pulls objects"
((before >= elems * 8)) || fail "the node's store does not hold the object"
((after == before)) \
  || fail "the reader's get_view added $((after - before)) bytes: a copy"
echo "ok: a worker read another's 64 MiB object in place in $((ns / 1000)) us"

# Each job's workers run that job's code: two versions of one program, side
# by side, each sees its own function.
start v1 "$bin_dir/caraway-version-1" "$work/v1-go" --caraway-address "$address"
v1=$last_pid
wait_for_line v1 "$v1" '^version ' 30
run v2 60 "$bin_dir/caraway-version-2" --caraway-address "$address"
((status == 0)) || fail "version 2 exited with $status"
# Idle past --worker-idle-timeout-ms, version 1's workers end (they hold
# nothing) while its driver waits; its next task gets a new one.
eventually 20 "idle workers did not end" no_workers_of "$head"
touch "$work/v1-go"
wait_exit "$v1" 60
((status == 0)) || fail "version 1 exited with $status"
grep -qx 'version v1' "$work/v1.out" && grep -qx 'again v1' "$work/v1.out" \
  || fail "version 1 ran other code: $(cat "$work/v1.out")"
grep -qx 'version v2' "$work/v2.out" \
  || fail "version 2 ran other code: $(cat "$work/v2.out")"
echo "ok: two versions of one program each ran their own code; idle workers ended"

# A function the job's libraries lack: the error names the job and them.
run missing 60 "$app" missing --caraway-address "$address"
grep '^missing: ' "$work/missing.out" | grep -q 'a worker process of job [0-9]* on node .*, which loaded .*cluster-app_tasks.so' \
  || fail "the missing function's error: $(cat "$work/missing.out")"
echo "ok: a missing function names the job and its libraries"

# The job's workers end with its driver.
eventually 10 "the job's workers outlive it" no_workers_of "$head"
echo "ok: the job's workers ended with it"

# The next job gets workers of its own, busy in a task when the cluster
# stops: they end with the node.
start busy "$app" busy --caraway-address "$address"
busy=$last_pid
wait_for_line busy "$busy" '^submitted$' 30
eventually 30 "the second job started no worker" \
  test -n "$(workers_of "$head")"
mapfile -t left < <(workers_of "$head")
cli stop 15 --address "$address" stop
expect_exit head "$head" 20 0
wait_exit "$busy" 30
for pid in "${left[@]}"; do
  eventually 5 "worker process $pid outlives the stopped node" \
    bash -c "! grep -qs '' /proc/$pid/cmdline"
done
echo "ok: no worker process is left after stop"
[[ ! -e $work/data/jobs ]] || fail "the jobs' library copies outlived the node"
compgen -G "$work/data/logs/worker-*.err" >/dev/null \
  || fail "the workers' logs did not outlive the node"
echo "ok: the jobs' library copies went with the node, the logs stayed"
