#!/usr/bin/env bash
# cluster.libraries: nodes started without --libraries run a driver's tasks
# and actors. The driver announces the task library built next to it with
# its job; every node loads it before the driver can send a task, and a node
# that joins while the job runs loads it as it registers. A library that
# does not load fails only the tasks that need it, with an error naming the
# function and the node, and the nodes keep serving.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3 # what the driver finds next to itself; the nodes are not told
require "$node" "$app" "$library"
# The daemon loads a job's library itself (threads), or keeps a copy of it
# for the job's worker processes (processes).
if [[ $worker_mode == threads ]]; then
  loaded="loaded library path=/.*/${library##*/}\$"
else
  loaded="kept library for the job's worker processes job=[0-9]+ path=/.*/[0-9]+-${library##*/}\$"
fi

start_cluster ""
wait_alive_nodes 3

run_app nothing 60 try-where --caraway-libraries /nonexistent/libnothing.so
grep -qx "where error: .*function 'where' is not registered on .*node $tpu_id.*" \
  "$work/nothing.out" || fail "try-where printed: $(cat "$work/nothing.out")"
for name in head worker_ssd worker_tpu; do
  # Loaded by the daemon (threads) or kept for the job's workers (processes).
  grep -Eq "cannot (load|keep) the library '/nonexistent/libnothing.so'" \
    "$work/$name.err" || fail "$name logged no failed load"
done
running "$head" || fail "the head died"
echo "ok: a library that does not load fails its tasks, not the nodes"

run_app where 60 where
expect_where where
for name in head worker_ssd worker_tpu; do
  n=$(grep -Ec "$loaded" "$work/$name.err" || true)
  # A daemon loads a library once; a copy is kept for each job.
  if [[ $worker_mode == threads ]]; then ((n == 1)); else ((n >= 1)); fi \
    || fail "$name did not load the library once (logged $n times)"
done
run_app transfer 90 transfer
n=$((10 << 17))
grep -qx "transfer $((n * (n - 1) / 2)) $tpu_id" "$work/transfer.out" \
  || fail "transfer printed: $(cat "$work/transfer.out")"
run_app pass_handle 60 pass-handle
grep -qx "pass-handle 7 $tpu_id" "$work/pass_handle.out" \
  || fail "pass-handle printed: $(cat "$work/pass_handle.out")"
echo "ok: the driver's library reached every node with its job"

start late "$app" late --caraway-address "$address"
late=$last_pid
wait_for_line late "$late" '^submitted$' 30
start worker_late "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources late:1
wait_listening worker_late "$last_pid"
late_id=$(node_id_of worker_late)
wait_exit "$late" 60
((status == 0)) || fail "the late driver exited with $status"
grep -qx "late-task $late_id" "$work/late.out" \
  || fail "late printed: $(cat "$work/late.out")"
grep -Eq "$loaded" "$work/worker_late.err" \
  || fail "the late node did not load the library"
echo "ok: a node that joined during a job loaded its library"

cli stop 15 --address "$address" stop
((status == 0)) || fail "caraway stop exited with $status"
expect_exit head "$head" 15 0
echo "PASS"
