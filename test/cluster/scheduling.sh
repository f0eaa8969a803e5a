#!/usr/bin/env bash
# cluster.scheduling: a head and two workers with two CPUs each share 2,000
# short tasks that one driver submits at once: each node runs a share within
# 2x of the others. Tasks that only the workers can run (resource "pool")
# go to both workers. A node that joins while a driver's tasks wait gets
# some of them. A driver asks the node it names for workers, and naming no
# live node is an error. Strategies: a hard node affinity runs on its node,
# or fails with unschedulable_error when the node is not there (a soft one
# runs elsewhere); tasks one after another stay on the head by default and
# visit every node with spread(). A task over 64 MiB made on a worker runs
# there, pulling nothing. Actors take spread() and node affinities too.
# nodes() lists the nodes. A task running
# on a node, and one waiting there for its child, are cancelled from the
# driver (the child with them). The leases of a
# driver killed with SIGKILL come back to the nodes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 2 --libraries "$library"
wait_listening head "$last_pid"
for w in pool_a pool_b; do
  start "$w" "$node" --role worker --head-address "$address" --num-cpus 2 \
    --resources pool:2 --libraries "$library"
  wait_listening "$w" "$last_pid"
done
wait_alive_nodes 3

# check_shares <name> <nodes>: the driver's tasks ran on exactly <nodes>
# nodes, and the busiest ran at most twice as many as the least busy.
check_shares() {
  local name=$1 want=$2 counts min max c
  mapfile -t counts < <(sed -n 's/^share [0-9a-f]* \([0-9]*\)$/\1/p' \
    "$work/$name.out")
  ((${#counts[@]} == want)) \
    || fail "$name ran on ${#counts[@]} nodes, not $want: $(cat "$work/$name.out")"
  min=${counts[0]}
  max=${counts[0]}
  for c in "${counts[@]}"; do
    ((c < min)) && min=$c
    ((c > max)) && max=$c
  done
  ((max <= 2 * min)) \
    || fail "$name shares differ more than 2x: $(cat "$work/$name.out")"
  echo "ok: $name ran on $want nodes, $min to $max tasks each"
}

run_app spread 120 share 2000 10
check_shares spread 3

run_app pool 120 share 400 10 pool
check_shares pool 2
for w in pool_a pool_b; do
  grep -q "^share $(node_id_of "$w") " "$work/pool.out" \
    || fail "no pool task ran on $w: $(cat "$work/pool.out")"
done
echo "ok: tasks only the workers can run went to both"

# -- a node that joins gets work ---------------------------------------------
start_app late share 2000 20
late=$last_pid
wait_for_line late "$late" '^submitted 2000$' 60
start joiner "$node" --role worker --head-address "$address" --num-cpus 2 \
  --libraries "$library"
wait_listening joiner "$last_pid"
joiner_id=$(node_id_of joiner)
wait_exit "$late" 120
((status == 0)) || fail "the late driver exited with $status"
joined=$(sed -n "s/^share $joiner_id \([0-9]*\)$/\1/p" "$work/late.out")
[[ -n $joined ]] && ((joined > 0)) \
  || fail "the node that joined ran none of the waiting tasks: $(cat "$work/late.out")"
echo "ok: a node that joined while tasks waited ran $joined of them"

# -- a driver picks the node it asks for workers -----------------------------
pool_a_id=$(node_id_of pool_a)
run_app chosen 60 share 20 10 --caraway-node "${pool_a_id:0:8}" \
  --caraway-log-level info
grep -q "asking for workers at node=$pool_a_id" "$work/chosen.err" \
  || fail "the driver did not ask pool_a: $(cat "$work/chosen.err")"
grep -q "^share " "$work/chosen.out" \
  || fail "the driver's tasks did not run: $(cat "$work/chosen.out")"
echo "ok: a driver asked the node it named for workers"
run unknown 30 "$app" share 1 1 --caraway-address "$address" \
  --caraway-node 0123456789abcdef
((status != 0)) || fail "a driver naming no live node succeeded"
grep -q "no live node matches --caraway-node 0123456789abcdef" \
  "$work/unknown.err" \
  || fail "no error named the node: $(cat "$work/unknown.err")"
echo "ok: a driver naming no live node fails, saying so"

# -- strategies --------------------------------------------------------------
pool_b_id=$(node_id_of pool_b)
run_app pinned_hard 60 pinned "$pool_b_id" hard
[[ $(cat "$work/pinned_hard.out") == "share $pool_b_id 20" ]] \
  || fail "hard affinity: $(cat "$work/pinned_hard.out")"
echo "ok: tasks with a hard node affinity all ran on that node"
run_app pinned_gone 60 pinned 0123456789abcdef0123456789abcdef hard
grep -q "^unschedulable_error .*node 0123456789abcdef0123456789abcdef is dead or unknown" \
  "$work/pinned_gone.out" \
  || fail "hard affinity to no node: $(cat "$work/pinned_gone.out")"
echo "ok: a hard affinity to a node that is not there fails, naming it"
run_app pinned_soft 60 pinned 0123456789abcdef0123456789abcdef soft
grep -q "^share " "$work/pinned_soft.out" \
  || fail "soft affinity to no node: $(cat "$work/pinned_soft.out")"
echo "ok: a soft affinity to a node that is not there runs elsewhere"
# One task after another: the hybrid policy keeps them on the head, which
# stays below half used; the spread strategy takes each to the next node.
run_app one_hybrid 60 one-by-one hybrid
[[ $(cat "$work/one_hybrid.out") == "node $(node_id_of head)" ]] \
  || fail "hybrid tasks one by one: $(cat "$work/one_hybrid.out")"
run_app one_spread 60 one-by-one spread
spread=$(grep -c '^node ' "$work/one_spread.out" || true)
((spread == 4)) \
  || fail "8 spread tasks ran on $spread of 4 nodes: $(cat "$work/one_spread.out")"
echo "ok: tasks one by one stay on the head, or with spread() visit all nodes"

# -- locality: a task runs where its argument is ----------------------------
run_app locality 90 locality "$pool_b_id"
[[ $(cat "$work/locality.out") == "locality $pool_b_id pulls 0" ]] \
  || fail "a reader of 64 MiB on pool_b: $(cat "$work/locality.out")"
echo "ok: a task over 64 MiB made on pool_b ran there, with no pull"

# -- actors: spread, and node affinity ----------------------------------------
run_app actor_spread 60 actor-spread 4
spread=$(sort -u <(sed -n 's/^actor-node //p' "$work/actor_spread.out") | wc -l)
((spread == 4)) \
  || fail "4 spread actors went to $spread nodes: $(cat "$work/actor_spread.out")"
run_app actor_pinned 60 actor-pinned "$pool_b_id" hard
[[ $(cat "$work/actor_pinned.out") == "actor-node $pool_b_id" ]] \
  || fail "an actor pinned to pool_b: $(cat "$work/actor_pinned.out")"
run_app actor_gone 60 actor-pinned 0123456789abcdef0123456789abcdef hard
grep -q "^unschedulable_error .*node 0123456789abcdef0123456789abcdef is dead or unknown" \
  "$work/actor_gone.out" \
  || fail "an actor pinned to no node: $(cat "$work/actor_gone.out")"
run_app actor_soft 60 actor-pinned 0123456789abcdef0123456789abcdef soft
grep -q "^actor-node " "$work/actor_soft.out" \
  || fail "an actor softly pinned to no node: $(cat "$work/actor_soft.out")"
echo "ok: spread actors went to every node; pinned ones to their node, or failed saying why"

run_app listed 30 nodes
for n in head pool_a pool_b joiner; do
  grep -q "^node $(node_id_of "$n") 127.0.0.1:[0-9]* alive CPU 2$" \
    "$work/listed.out" || fail "nodes() missed $n: $(cat "$work/listed.out")"
done
echo "ok: nodes() lists every node with its address, state and CPUs"

# -- cancellation ------------------------------------------------------------
run_app cancel 60 cancel
[[ $(grep -c '^cancelled_error$' "$work/cancel.out") == 2 ]] \
  || fail "cancel printed: $(cat "$work/cancel.out")"
echo "ok: a running task and one waiting for its child were cancelled on nodes"

# -- a driver killed while it holds leases -----------------------------------
cpus_used() { # <name> <regex for the cluster line>
  cli "$1" 15 --address "$address" status && grep -Eq "$2" "$work/$1.out"
}
start_app doomed share 2000 20
doomed=$last_pid
wait_for_line doomed "$doomed" '^submitted 2000$' 60
eventually 30 "the doomed driver's tasks never ran" \
  cpus_used busy '^cluster: .* CPU [1-9][0-9]*/8'
kill -KILL "$doomed"
wait_exit "$doomed" 10
eventually 30 "the nodes kept the leases of a driver that is gone" \
  cpus_used idle '^cluster: 4 of 4 nodes alive  CPU 0/8'
echo "ok: the leases of a driver killed with SIGKILL came back to the nodes"
