#!/usr/bin/env bash
# cluster.tasks: a head and two workers with different custom resources run
# a driver's tasks where their resources are: the node id each task reports
# is the node with the resource. Drivers and tasks see the resources of all
# nodes, summed. A 10 MiB object made on one worker is read on the other; an
# anonymous actor's handle works in a task on another node; a detached named
# actor made by one driver is used by a second; a task nobody can run waits
# until a node with its resource joins late.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$bin_dir/fib"

# The tpu worker logs at debug level: its pulls show (below).
tpu_options=(--log-level debug)
start_cluster "$library"

wait_alive_nodes 3

run_app resources 60 resources
for line in "driver total CPU:4 ssd:2 tpu:1" \
  "driver available CPU:4 ssd:2 tpu:1" \
  "task total CPU:4 ssd:2 tpu:1 available CPU:3 ssd:2 tpu:0"; do
  grep -qx "$line" "$work/resources.out" \
    || fail "resources printed: $(cat "$work/resources.out")"
done
echo "ok: drivers and tasks see the resources of all nodes, summed"

# The driver's task is in the head's task table, with its node, although
# the driver exited right after it.
task_listed() {
  cli tasks 15 --address "$address" list tasks \
    --filter function=resources_seen --format json \
    && grep -q '"state": "FINISHED"' "$work/tasks.out" \
    && grep -q "\"node\": \"$tpu_id\"" "$work/tasks.out"
}
eventually 10 "the task table lacks the driver's task" task_listed
cli summary 15 --address "$address" summary tasks
grep -Eq '^resources_seen +0 +0 +0 +1 +0 +1$' "$work/summary.out" \
  || fail "summary tasks: $(cat "$work/summary.out")"
echo "ok: caraway list tasks and summary tasks show the driver's task"
# A driver with events off reports nothing; the next one reports again.
run_app quiet 60 resources --caraway-task-events false
run_app loud 60 resources
two_listed() {
  cli summary2 15 --address "$address" summary tasks \
    && grep -Eq '^resources_seen +0 +0 +0 +2 +0 +2$' "$work/summary2.out"
}
eventually 10 "not exactly the two reporting drivers' tasks listed" two_listed
echo "ok: --caraway-task-events false keeps a driver's tasks out of the table"

# Nested tasks are in the table too, although their owners (the worker
# processes of a job that ends at once) outlive the driver only briefly:
# they report as they end. The timeline shows each task that ran as one
# complete event on its worker's row.
run fib 60 "$bin_dir/fib" 6 --caraway-address "$address"
((status == 0)) || fail "fib exited with $status: $(tail -3 "$work/fib.err")"
fib_listed() {
  cli fib_summary 15 --address "$address" summary tasks \
    && grep -Eq '^fib +0 +0 +0 +25 +0 +25$' "$work/fib_summary.out"
}
eventually 10 "fib(6)'s 25 tasks are not all listed finished" fib_listed
cli all_tasks 15 --address "$address" list tasks --limit 100000 --format json
cli timeline 15 --address "$address" timeline -o "$work/trace.json"
ran=$(grep -c '"started_ns": [1-9]' "$work/all_tasks.out" || true)
grep -qx "wrote $ran tasks to $work/trace.json" "$work/timeline.out" \
  || fail "timeline: $(cat "$work/timeline.out") ($ran tasks ran)"
events=$(grep -c '"ph":"X"' "$work/trace.json" || true)
fib_events=$(grep -c '"name":"fib","cat":"task","ph":"X"' "$work/trace.json" || true)
((events == ran && fib_events == 25)) \
  || fail "the trace has $events events ($fib_events of fib) for $ran tasks"
head -1 "$work/trace.json" | grep -q '^{"displayTimeUnit": "ms", "traceEvents": \[$' \
  && tail -1 "$work/trace.json" | grep -qx ']}' \
  || fail "not a trace: $(head -2 "$work/trace.json")"
echo "ok: nested tasks are listed, and the timeline has one event per task run"

# Objects, as their owner describes them while a driver holds them.
start_app objects objects "$work/release"
objects_pid=$last_pid
wait_for_line objects "$objects_pid" '^objects ' 60
read -r _ big made failed small < <(grep '^objects ' "$work/objects.out")
# field <name> <key>: the value of "key" in the JSON object cli wrote.
field() {
  sed -n "s/^  \"$2\": \(.*\),\?\$/\1/p" "$work/$1.out" | sed 's/,$//'
}
expect_field() { # <name> <key> <value>
  [[ $(field "$1" "$2") == "$3" ]] \
    || fail "object $1: $2 is $(field "$1" "$2"), not $3: $(cat "$work/$1.out")"
}
cli obj_made 15 --address "$address" get object "$made" --format json
expect_field obj_made state '"READY"'
expect_field obj_made made_by '"produce"'
expect_field obj_made in_store true
expect_field obj_made node "\"$tpu_id\""
expect_field obj_made job "$(field obj_made job)"
expect_field obj_made pid "$objects_pid"
# `made` and its copy in a vector
expect_field obj_made local_refs 2
(($(field obj_made size) > 32 << 20 && $(field obj_made size) < (32 << 20) + 64)) \
  || fail "32 MiB made by a task: $(cat "$work/obj_made.out")"
cli obj_failed 15 --address "$address" get object "$failed" --format json
expect_field obj_failed state '"FAILED"'
expect_field obj_failed made_by '"fail_with"'
field obj_failed error | grep -q "no luck" \
  || fail "the failed task's error: $(cat "$work/obj_failed.out")"
# A driver keeps what it puts in its own process (not in a node's store).
cli obj_big 15 --address "$address" get object "$big" --format json
expect_field obj_big made_by '"(put)"'
expect_field obj_big in_store false
cli obj_small 15 --address "$address" get object "$small" --format json
expect_field obj_small made_by '"(put)"'
expect_field obj_small submitted_refs 1
expect_field obj_small local_refs 1
echo "ok: caraway get object shows an object's state, maker, place, owner and holders"
cli objs 15 --address "$address" list objects
head -1 "$work/objs.out" | grep -Eq '^ID +STATE +SIZE +MADE_BY +OWNER +WHERE +COPIES +LOCAL +SUBMITTED +CONTAINED +BORROWERS +ERROR$' \
  || fail "list objects header: $(head -1 "$work/objs.out")"
sed -n 2p "$work/objs.out" | grep -Eq "^$made +READY +32\.0 MiB +produce +job [0-9]+ pid $objects_pid +store ${tpu_id:0:8} +0 +2 +0 +0 +0 +-$" \
  && sed -n 3p "$work/objs.out" | grep -Eq "^$big +READY +8\.0 MiB +\(put\) +job [0-9]+ pid $objects_pid +process " \
  || fail "list objects, largest first: $(cat "$work/objs.out")"
cli objs_failed 15 --address "$address" list objects --filter state=failed
(($(wc -l < "$work/objs_failed.out") == 2)) \
  && grep -q "^$failed .*no luck" "$work/objs_failed.out" \
  || fail "list objects --filter state=failed: $(cat "$work/objs_failed.out")"
cli obj_summary 15 --address "$address" summary objects
grep -Eq '^\(put\) +0 +2 +0 +2 +8\.0 MiB$' "$work/obj_summary.out" \
  && grep -Eq '^produce +0 +1 +0 +1 +32\.0 MiB$' "$work/obj_summary.out" \
  && grep -Eq '^fail_with +0 +0 +1 +1 +' "$work/obj_summary.out" \
  && grep -Eq '^length_after +1 +0 +0 +1 +0 B$' "$work/obj_summary.out" \
  || fail "summary objects: $(cat "$work/obj_summary.out")"
# Stores report their use within a second of a change.
stores_used() {
  cli memory 15 --address "$address" memory \
    && grep -Eq "^${tpu_id:0:8}  127\.0\.0\.1:[0-9]+ +32\.0 MiB " "$work/memory.out"
}
eventually 10 "memory shows the stores' use wrong" stores_used
grep -qx -- "-- object stores" "$work/memory.out" \
  && (($(grep -cE '^[0-9a-f]{8}  127\.0\.0\.1:[0-9]+ ' "$work/memory.out") == 3)) \
  && grep -Eq "^submitted: 1 object, 13 B$" "$work/memory.out" \
  && grep -Eq "^job [0-9]+ pid $objects_pid: 5 objects, 40\.0 MiB$" "$work/memory.out" \
  || fail "memory: $(cat "$work/memory.out")"
# The task waiting for the file runs: its worker says so in the table.
task_runs() {
  cli running 15 --address "$address" list tasks \
    --filter function=length_after --format json \
    && grep -q '"state": "RUNNING"' "$work/running.out" \
    && grep -Eq '"pid": [1-9]' "$work/running.out" \
    && grep -Eq '"started_ns": [1-9]' "$work/running.out"
}
eventually 10 "the running task is not listed RUNNING" task_runs
cli memory_json 15 --address "$address" memory --format json
grep -q '"total_objects": 5' "$work/memory_json.out" \
  && grep -q '"silent_owners": 0' "$work/memory_json.out" \
  || fail "memory --format json: $(cat "$work/memory_json.out")"
touch "$work/release"
finish_app objects "$objects_pid" 60
grep -qx "length 5" "$work/objects.out" \
  || fail "the waiting task: $(cat "$work/objects.out")"
task_done() {
  cli done 15 --address "$address" list tasks \
    --filter function=length_after --format json \
    && grep -q '"state": "FINISHED"' "$work/done.out"
}
eventually 10 "the task that ran is not listed FINISHED" task_done
echo "ok: list and summary objects and memory show the driver's objects"
echo "ok: a running task is listed RUNNING, then FINISHED"

# Metrics a task and a driver record, on the endpoints of the task's node
# and of the node the driver submits to, with their pids; the driver's
# task latencies too; the task's node counts what it pulled.
start_app metrics metrics "$work/metrics-done"
metrics_pid=$last_pid
wait_for_line metrics "$metrics_pid" '^recorded [0-9]+$' 60
task_pid=$(sed -n 's/^recorded //p' "$work/metrics.out")
tpu_port=$(metrics_port worker_tpu)
task_metrics() {
  http_get 5 "$tpu_port" /metrics >"$work/tpu_metrics.txt" \
    && grep -qx "app_items_total{kind=\"fruit\",pid=\"$task_pid\"} 3" "$work/tpu_metrics.txt" \
    && grep -qx "app_item_size_bucket{pid=\"$task_pid\",le=\"10\"} 1" "$work/tpu_metrics.txt" \
    && grep -qx "app_item_size_count{pid=\"$task_pid\"} 2" "$work/tpu_metrics.txt"
}
eventually 10 "the task's metrics are not on its node's endpoint" task_metrics
grep -q '^# TYPE app_items_total counter$' "$work/tpu_metrics.txt" \
  && grep -Eq "^caraway_object_store_evicted_bytes_total\{node=\"$tpu_id\"\} [0-9]+$" "$work/tpu_metrics.txt" \
  && grep -q '^# TYPE app_item_size histogram$' "$work/tpu_metrics.txt" \
  || fail "metric types: $(grep '^# TYPE app' "$work/tpu_metrics.txt")"
pulled=$(sed -n "s/^caraway_object_store_pulled_bytes_total{pid=\"$task_pid\"} //p" "$work/tpu_metrics.txt")
((${pulled:-0} >= 8 << 17)) \
  || fail "the task's process pulled ${pulled:-no} bytes: $(grep pulled "$work/tpu_metrics.txt")"
driver_metrics() {
  local name
  for name in head worker_ssd worker_tpu; do
    http_get 5 "$(metrics_port $name)" /metrics >"$work/driver_metrics.txt" || return 1
    grep -qx "app_driver_waiting{pid=\"$metrics_pid\"} 1" "$work/driver_metrics.txt" \
      && grep -Eq "^caraway_task_execution_seconds_count\{pid=\"$metrics_pid\"\} 2$" "$work/driver_metrics.txt" \
      && grep -Eq "^caraway_task_scheduling_seconds_bucket\{pid=\"$metrics_pid\",le=\"\+Inf\"\} 2$" "$work/driver_metrics.txt" \
      && return 0
  done
  return 1
}
eventually 10 "the driver's metrics are on no node's endpoint" driver_metrics
touch "$work/metrics-done"
finish_app metrics "$metrics_pid" 30
echo "ok: metrics a task and a driver record show on their nodes' endpoints"

run_app where 60 where
expect_where where
echo "ok: tasks ran on the nodes with their resources"

run_app spread 90 spread
spread=$(grep -c '^spread-node ' "$work/spread.out" || true)
((spread >= 2)) \
  || fail "12 slow tasks ran on $spread node(s): $(cat "$work/spread.out")"
echo "ok: work beyond the head's CPUs spread to $spread nodes"

run_app transfer 90 transfer
n=$((10 << 17))
grep -qx "transfer $((n * (n - 1) / 2)) $tpu_id" "$work/transfer.out" \
  || fail "transfer printed: $(cat "$work/transfer.out")"
grep -qx "transfer-pulls 1" "$work/transfer.out" \
  || fail "two readers on one node: $(cat "$work/transfer.out")"
# At debug level, the tpu node's logs (its daemon's object_store.log, or
# its worker process' stderr) say what it pulled, from where, how big.
grep -rEq "DEBUG [0-9]+ \[object_store\] pulled an object id=[0-9a-f]+ from=127\.0\.0\.1:[0-9]+ bytes=[0-9]+ ms=" \
  "$work/caraway-session-$tpu_id/logs" \
  || fail "no pull in the tpu node's debug logs: $(ls "$work/caraway-session-$tpu_id/logs")"
grep -qx "put-transfer $((n * (n - 1) / 2)) $tpu_id" "$work/transfer.out" \
  || fail "a driver's put was not read: $(cat "$work/transfer.out")"
grep -qx "driver-get $n" "$work/transfer.out" \
  || fail "the driver did not read a node's object: $(cat "$work/transfer.out")"
echo "ok: 10 MiB made on one worker was pulled once by the other"
echo "ok: a driver's put was read on a worker, a worker's object by the driver"

run_app pass_handle 60 pass-handle
grep -qx "pass-handle 7 $tpu_id" "$work/pass_handle.out" \
  || fail "pass-handle printed: $(cat "$work/pass_handle.out")"
grep -qx "driver sees 12" "$work/pass_handle.out" \
  || fail "pass-handle printed: $(cat "$work/pass_handle.out")"
grep -q "^stranger actor_died: .*unknown" "$work/pass_handle.out" \
  || fail "pass-handle printed: $(cat "$work/pass_handle.out")"
echo "ok: a task on another node called an actor through a passed handle"

run_app nested 90 nested
grep -qx "nested-put $((n * (n - 1) / 2 + 6)) $tpu_id" "$work/nested.out" \
  || fail "nested printed: $(cat "$work/nested.out")"
grep -qx "nested-result 499503" "$work/nested.out" \
  || fail "nested printed: $(cat "$work/nested.out")"
grep -qx "nested-third 499503 $tpu_id" "$work/nested.out" \
  || fail "nested printed: $(cat "$work/nested.out")"
echo "ok: refs nested in values work across nodes and drivers"

# With the head frozen, a call still goes from the driver to the actor's
# host and back: the two are connected directly.
start direct "$app" direct "$work/go" --caraway-address "$address"
direct=$last_pid
wait_for_line direct "$direct" '^ready$' 30
kill -STOP "$head"
touch "$work/go"
deadline=$(($(now_ms) + 3000))
until grep -qx "direct 12" "$work/direct.out"; do
  if (($(now_ms) >= deadline)); then
    kill -CONT "$head"
    fail "no answer from the actor while the head was stopped"
  fi
  sleep 0.05
done
kill -CONT "$head"
wait_exit "$direct" 30
((status == 0)) || fail "direct exited with $status"
echo "ok: actor calls go straight to the host, not through the head"

run_app make_named 60 make-detached keeper
grep -qx "created keeper total 5" "$work/make_named.out" \
  || fail "make-detached printed: $(cat "$work/make_named.out")"
run_app use_named 60 use-named keeper
grep -qx "found keeper total 12" "$work/use_named.out" \
  || fail "use-named printed: $(cat "$work/use_named.out")"
echo "ok: a second driver found and called the first driver's detached actor"
# Of the tally actors so far, only the detached one outlived its driver.
one_tally_alive() {
  cli actor_summary 15 --address "$address" summary actors \
    && grep -Eq '^tally +0 +1 +0 +[1-9][0-9]* +[0-9]+$' "$work/actor_summary.out"
}
eventually 10 "summary actors shows no tally row with one alive" \
  one_tally_alive
echo "ok: caraway summary actors counts them by class and state"
# An actor's row says where it runs: node, job and the pid of its process.
cli keeper 15 --address "$address" list actors --filter name=keeper \
  --format json
grep -Eq "\"node\": \"($head_id|$ssd_id|$tpu_id)\"" "$work/keeper.out" \
  && grep -Eq '"job": [1-9]' "$work/keeper.out" \
  && grep -Eq '"pid": [1-9]' "$work/keeper.out" \
  || fail "list actors: $(cat "$work/keeper.out")"
keeper_pid=$(sed -n 's/.*"pid": \([0-9]*\).*/\1/p' "$work/keeper.out")
running "$keeper_pid" || fail "the keeper's pid $keeper_pid is no process"
echo "ok: caraway list actors shows an actor's node, job and pid"

start late "$app" late --caraway-address "$address"
late=$last_pid
wait_for_line late "$late" '^submitted$' 30
# The task waits in a raylet's queue, since no node has its resource.
deadline=$(($(now_ms) + 15000))
until cli status 15 --address "$address" status \
  && grep -qx "pending tasks: 1" "$work/status.out"; do
  (($(now_ms) < deadline)) || fail "status: $(cat "$work/status.out")"
  sleep 0.1
done
running "$late" || fail "the late task ran before a node could run it"
grep -q "late-task" "$work/late.out" \
  && fail "the late task ran before a node could run it"
start worker_late "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources late:1 --libraries "$library"
wait_listening worker_late "$last_pid"
late_id=$(node_id_of worker_late)
wait_exit "$late" 60
((status == 0)) || fail "the late driver exited with $status"
grep -qx "late-task $late_id" "$work/late.out" \
  || fail "late printed: $(cat "$work/late.out")"
echo "ok: a node that joined late got the waiting task"

# Every driver that ran joined as a job, and left when it exited.
deadline=$(($(now_ms) + 15000))
until cli jobs 15 --address "$address" list jobs \
  && (($(grep -c 'driver pid [0-9]* finished' "$work/jobs.out" || true)
       >= 7)); do
  (($(now_ms) < deadline)) || fail "jobs: $(cat "$work/jobs.out")"
  sleep 0.1
done
echo "ok: the job table saw the drivers come and go"

cli stop 15 --address "$address" stop
((status == 0)) || fail "caraway stop exited with $status"
expect_exit head "$head" 15 0
echo "PASS"
