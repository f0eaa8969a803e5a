#!/usr/bin/env bash
# cluster.failures: a worker killed with SIGKILL while it runs leased tasks
# of a 2,000-task run that only workers can run: its tasks run again on the
# live nodes and every result comes back right; the driver's owner says how
# many it ran again, and one without retries fails with node_died_error
# naming the node. The only copy of a task's 4 MiB result dies with its
# node and is made again; an actor with max_restarts moves to a surviving
# node when its node dies. A worker frozen with SIGSTOP is declared dead
# (the cluster answers meanwhile); after SIGCONT it does not serve on but
# stops, and a head restarted on the port it just left listens at once.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"

pick_port
head_port=$free
address=127.0.0.1:$head_port
start head "$node" --port "$head_port" --num-cpus 1 --libraries "$library" \
  "${timing[@]}"
head=$last_pid
wait_listening head "$head"
start victim "$node" --role worker --head-address "$address" --num-cpus 2 \
  --resources pool:2,solo:1 --libraries "$library" "${timing[@]}"
victim=$last_pid
wait_listening victim "$victim"
start survivor "$node" --role worker --head-address "$address" --num-cpus 2 \
  --resources pool:2 --libraries "$library" "${timing[@]}"
survivor=$last_pid
wait_listening survivor "$survivor"
victim_id=$(node_id_of victim)
wait_alive_nodes 3

# kill_then_go <node pid> <flag file> <driver pid>: kills the node while the
# driver waits for the flag file, makes the file and waits for the driver.
kill_then_go() {
  kill -KILL "$1"
  wait_exit "$1" 10
  touch "$2"
  wait_exit "$3" 90
}

# -- a node killed while it runs tasks ---------------------------------------
start survive "$app" survive --caraway-address "$address"
driver=$last_pid
wait_for_line survive "$driver" '^submitted 2000$' 60
# Kill the victim once the driver holds its leases (both "pool" slots busy
# with batches of tasks) and the task without retries runs there (it holds
# "solo"): they are lost with it.
deadline=$(($(now_ms) + 60000))
until cli status 15 --address "$address" status \
  && grep -Eq "^${victim_id:0:8} .* pool 2/2 .* solo 1/1 " "$work/status.out"; do
  running "$driver" || fail "the driver ended before the victim ran its tasks"
  (($(now_ms) < deadline)) || fail "the victim ran no tasks in 60 s"
  sleep 0.1
done
kill -KILL "$victim"
wait_exit "$victim" 10
echo "ok: killed the victim while it ran the driver's tasks"
wait_exit "$driver" 150
((status == 0)) || fail "the driver exited with $status"
grep -qx "survive-right 2000 of 2000" "$work/survive.out" \
  || fail "survive printed: $(cat "$work/survive.out")"
rerun=$(sed -n 's/.*node died; running its tasks again.* tasks=\([0-9]*\).*/\1/p' \
  "$work/survive.err" | head -n 1)
[[ -n $rerun ]] && ((rerun > 0)) \
  || fail "the driver ran no task again: $(cat "$work/survive.err")"
echo "ok: all 2000 results right; $rerun tasks ran again after the kill"
grep -q "^no-retry node_died_error .*$victim_id" "$work/survive.out" \
  || fail "a task without retries did not fail naming its node: $(cat "$work/survive.out")"
echo "ok: a task without retries failed with node_died_error naming the node"
failed_listed() {
  cli failed_tasks 15 --address "$address" list tasks --filter state=failed \
    --format json \
    && grep -q "\"error\": \".*$victim_id" "$work/failed_tasks.out"
}
eventually 10 "the task table lacks the task lost with its node" failed_listed
echo "ok: caraway list tasks shows it FAILED, with the error"

# -- a lost object is made again ---------------------------------------------
# The 4 MiB result lands on the survivor (the only node with "pool" then); its
# only copy dies with it, and its task runs again on the spare, which joins
# after it was made.
start lineage "$app" lineage "$work/go" --caraway-address "$address"
reader=$last_pid
wait_for_line lineage "$reader" '^made$' 60
start spare "$node" --role worker --head-address "$address" --num-cpus 1 \
  --resources pool:1 --libraries "$library" "${timing[@]}"
spare=$last_pid
wait_listening spare "$spare"
wait_alive_nodes 3
kill_then_go "$survivor" "$work/go" "$reader"
((status == 0)) || fail "the lineage driver exited with $status"
n=$((4 << 17))
grep -qx "lineage $((n * (n - 1) / 2))" "$work/lineage.out" \
  || fail "lineage printed: $(cat "$work/lineage.out" "$work/lineage.err")"
grep -q "rebuilding a lost object" "$work/lineage.err" \
  || fail "the object was not made again: $(cat "$work/lineage.err")"
echo "ok: the only copy of a 4 MiB result died with its node and was made again"

# -- an actor restarts on a surviving node -------------------------------------
start second "$node" --role worker --head-address "$address" --num-cpus 1 \
  --resources pool:1 --libraries "$library" "${timing[@]}"
wait_listening second "$last_pid"
second_id=$(node_id_of second)
spare_id=$(node_id_of spare)
wait_alive_nodes 3
start restart "$app" restart "$work/go-restart" --caraway-address "$address"
caller=$last_pid
wait_for_line restart "$caller" "^ready 5 first $spare_id$" 60
kill_then_go "$spare" "$work/go-restart" "$caller"
((status == 0)) || fail "the restart driver exited with $status"
grep -qx "after 7 restarted $second_id" "$work/restart.out" \
  || fail "restart printed: $(cat "$work/restart.out" "$work/restart.err")"
echo "ok: an actor with max_restarts moved to a surviving node, state reset"

# -- a frozen node is fenced off -----------------------------------------------
start frozen "$node" --role worker --head-address "$address" --num-cpus 1 \
  --libraries "$library" "${timing[@]}"
frozen=$last_pid
wait_listening frozen "$frozen"
frozen_id=$(node_id_of frozen)
wait_alive_nodes 3
kill -STOP "$frozen"
# The gcs answers from what it knows instead of waiting on the silent node
# (it would wait 2 s for each request it sent there).
cli frozen_list 15 --address "$address" list nodes
((status == 0 && elapsed_ms < 1500)) \
  || fail "list nodes took $elapsed_ms ms while a node was frozen"
echo "ok: list nodes answered in $elapsed_ms ms while a node was frozen"
deadline=$(($(now_ms) + 30000))
until cli nodes 15 --address "$address" list nodes \
  && grep -q "^${frozen_id} .* dead" "$work/nodes.out"; do
  (($(now_ms) < deadline)) || fail "the frozen node was not declared dead"
  sleep 0.1
done
echo "ok: the frozen node was declared dead"
kill -CONT "$frozen"
expect_exit frozen "$frozen" 30 1 "stopping: "
echo "ok: after SIGCONT the fenced node stopped instead of serving"

# -- a head restarted on the same port -----------------------------------------
kill -KILL "$head"
wait_exit "$head" 10
start head2 "$node" --port "$head_port" --num-cpus 1 "${timing[@]}"
wait_listening head2 "$last_pid"
echo "ok: a head restarted on port $head_port at once"
echo "PASS"
