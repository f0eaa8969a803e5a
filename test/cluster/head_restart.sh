#!/usr/bin/env bash
# cluster.head_restart: a head killed with SIGKILL and restarted on its port
# with its --data-dir brings the cluster back. While it is away, workers
# serve on, a driver still calls its actor and runs tasks on a worker
# instead of the head's node; once it is back, the workers
# rejoin under their ids, the driver rejoins its job and runs tasks again,
# the detached named actor is found by a new driver with its state, a
# placement group is back on its nodes (and gives them back once removed),
# and the head's old node is declared dead. A head restarted without its data dir
# knows no one: the workers are fenced and stop, and a driver's request
# fails saying so. A second head on a data dir in use does not start, and a
# worker whose head stays away stops after its reconnect timeout.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"

data=$work/head-data
pick_port
head_port=$free
address=127.0.0.1:$head_port
start_head() { # <name> [<option>...]
  local name=$1
  shift
  start "$name" "$node" --port "$head_port" --num-cpus 1 \
    --libraries "$library" --rejoin-timeout-ms 3000 "${timing[@]}" "$@"
  head=$last_pid
  wait_listening "$name" "$head"
}
start_head head --data-dir "$data"
head_id=$(node_id_of head)
start worker_ssd "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources ssd:2,pool:1 --libraries "$library" "${timing[@]}"
ssd=$last_pid
wait_listening worker_ssd "$ssd"
start worker_tpu "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources tpu:1,pool:1 --libraries "$library" "${timing[@]}"
tpu=$last_pid
wait_listening worker_tpu "$tpu"
ssd_id=$(node_id_of worker_ssd)
tpu_id=$(node_id_of worker_tpu)
wait_alive_nodes 3

pick_port
start rival "$node" --port "$free" --num-cpus 1 --data-dir "$data"
expect_exit rival "$last_pid" 30 1 "another head uses the data directory"

start_app driver outlive-head "$work/go"
driver=$last_pid
wait_for_line driver "$driver" "^ready 5 on $ssd_id$" 60
group=$(sed -n 's/^group CREATED //p' "$work/driver.out")
[[ $group == "$ssd_id $tpu_id" || $group == "$tpu_id $ssd_id" ]] \
  || fail "the placement group over both workers: $(cat "$work/driver.out")"

# -- the head is away ------------------------------------------------------------
# With worker processes, the tpu worker's are ended first (each leaves its
# log files), so that it has to start one while the head is away.
ended=0
for f in "$work/caraway-session-$tpu_id"/logs/worker-*.err; do
  [[ -e $f ]] || continue
  pid=${f##*-}
  pid=${pid%.err}
  kill -KILL "$pid" 2>/dev/null || true
  wait_exit "$pid" 10
  ended=$((ended + 1))
done
tpu_ended() {
  (($(grep -c 'a worker process ended' "$work/worker_tpu.err") >= ended))
}
eventually 10 "the tpu worker did not see its worker processes end" tpu_ended
kill -KILL "$head"
wait_exit "$head" 10
touch "$work/go"
wait_for_line driver "$driver" '^while-away 12$' 30
wait_for_line driver "$driver" "^task-while-away ($ssd_id|$tpu_id)$" 30
wait_for_line driver "$driver" "^tpu-while-away $tpu_id$" 30
running "$ssd" && running "$tpu" || fail "a worker stopped without the head"
echo "ok: while the head was away the workers served on, the actor answered"
echo "ok: and the driver's tasks ran on a worker, one on a worker process started meanwhile"

# -- the head is back ------------------------------------------------------------
start_head head2 --data-dir "$data"
touch "$work/go-back"
finish_app driver "$driver" 60
grep -qx "task-after $tpu_id" "$work/driver.out" \
  || fail "the driver ran no task after the restart: $(cat "$work/driver.out")"
echo "ok: the driver rejoined its job and ran a task on the tpu worker"
grep -qx "group-after CREATED $group" "$work/driver.out" \
  || fail "the placement group after the restart: $(cat "$work/driver.out")"
grep -qx "group-task ${group#* }" "$work/driver.out" \
  || fail "the task in bundle 1: $(cat "$work/driver.out")"
pool_free() {
  cli pool 15 --address "$address" status \
    && grep -Eq '^cluster: .*  pool 0/2' "$work/pool.out"
}
eventually 20 "the removed group kept its bundles" \
  pool_free
echo "ok: the placement group came back where it was, ran a task, and once"
echo "ok: removed gave its bundles back"
nodes_back() {
  cli nodes 15 --address "$address" list nodes \
    && grep -q "^$ssd_id .* alive" "$work/nodes.out" \
    && grep -q "^$tpu_id .* alive" "$work/nodes.out" \
    && grep -q "^$head_id .* dead" "$work/nodes.out"
}
eventually 20 "the nodes are not back as they were" nodes_back
echo "ok: both workers are back under their ids; the old head's node is dead"
run_app user 60 use-named keeper
grep -qx "found keeper total 19" "$work/user.out" \
  || fail "use-named printed: $(cat "$work/user.out" "$work/user.err")"
echo "ok: the detached named actor was found again with its state"

# -- a head restarted without its data dir ---------------------------------------
start_app late lookup-after "$work/go-late"
late=$last_pid
wait_for_line late "$late" '^ready$' 60
kill -KILL "$head"
wait_exit "$head" 10
touch "$work/go-late"
start_head head3
expect_exit worker_ssd "$ssd" 30 1 "stopping: .*(dead|not take)"
expect_exit worker_tpu "$tpu" 30 1 "stopping: .*(dead|not take)"
echo "ok: a head without its data dir knows no one; the workers were fenced"
finish_app late "$late" 60
grep -q "^lookup-failed .*does not know job" "$work/late.out" \
  || fail "lookup-after printed: $(cat "$work/late.out" "$work/late.err")"
echo "ok: a driver the restarted head does not know gets an error saying so"

# -- a head that does not come back ------------------------------------------------
start loner "$node" --role worker --head-address "$address" --num-cpus 1 \
  --head-reconnect-timeout-ms 1500 "${timing[@]}"
loner=$last_pid
wait_listening loner "$loner"
kill -KILL "$head"
wait_exit "$head" 10
expect_exit loner "$loner" 30 1 "could not reach it again within 1500 ms"
echo "ok: a worker whose head stays away stops after its reconnect timeout"
echo "PASS"
