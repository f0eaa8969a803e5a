#!/usr/bin/env bash
# cluster.placement: placement groups on a head and three workers (two CPUs
# each; the workers also have one "pool"). Every strategy puts its bundles
# where it says, and a task in each bundle runs on the bundle's node; a
# STRICT_SPREAD group needing more nodes than there are stays PENDING, and
# `caraway list placement-groups` says why; removed groups give their
# resources back. When a node with a bundle is killed, the group is placed
# again on a node with room (RESCHEDULING, then CREATED) and its tasks run
# there.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$cli"

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 2 --libraries "$library"
wait_listening head "$last_pid"
declare -A pid_of
for w in w1 w2 w3; do
  start "$w" "$node" --role worker --head-address "$address" --num-cpus 2 \
    --resources pool:1 --libraries "$library"
  wait_listening "$w" "$last_pid"
  pid_of[$w]=$last_pid
done
wait_alive_nodes 4

# bundle_nodes <name>: the node of each bundle, as the driver printed them
# first.
bundle_nodes() {
  sed -n 's/^nodes //p' "$work/$1.out" | head -1
}

# check_group <name> <distinct nodes>: created, its bundles on that many
# nodes, each bundle's task on the bundle's node, removed at the end.
check_group() {
  local name=$1 want=$2 nodes i=0 n
  grep -qx 'state CREATED' "$work/$name.out" \
    || fail "$name was not created: $(cat "$work/$name.out")"
  read -r -a nodes <<<"$(bundle_nodes "$name")"
  n=$(printf '%s\n' "${nodes[@]}" | sort -u | wc -l)
  ((n == want)) \
    || fail "$name put its bundles on $n nodes, not $want: $(cat "$work/$name.out")"
  for node in "${nodes[@]}"; do
    grep -qx "bundle $i $node" "$work/$name.out" \
      || fail "$name: the task in bundle $i ran elsewhere: $(cat "$work/$name.out")"
    i=$((i + 1))
  done
  grep -qx 'removed REMOVED' "$work/$name.out" \
    || fail "$name was not removed: $(cat "$work/$name.out")"
  echo "ok: $name placed its bundles on $want nodes; their tasks ran there"
}

run_app strict_spread 60 pg strict_spread 4 CPU 20
check_group strict_spread 4
run_app spread 60 pg spread 3 CPU 20
check_group spread 3
run_app strict_pack 60 pg strict_pack 2 CPU 20
check_group strict_pack 1
run_app pack 60 pg pack 2 CPU 20
check_group pack 1

# -- a group that cannot be placed waits, saying why -------------------------
start_app pending pg strict_spread 5 CPU 1 hold "$work/go-pending" 1
pending=$last_pid
wait_for_line pending "$pending" '^holding$' 60
grep -qx 'state PENDING' "$work/pending.out" \
  || fail "5 bundles on 4 nodes: $(cat "$work/pending.out")"
cli listed 15 --address "$address" list placement-groups
grep -Eq '^[0-9a-f]{32}  PENDING +STRICT_SPREAD .*/pg +STRICT_SPREAD needs 5 nodes' \
  "$work/listed.out" || fail "the pending group as listed: $(cat "$work/listed.out")"
grep -Eq '^[0-9a-f]{32}  REMOVED +PACK ' "$work/listed.out" \
  || fail "removed groups as listed: $(cat "$work/listed.out")"
touch "$work/go-pending"
finish_app pending "$pending" 30
grep -qx 'removed REMOVED' "$work/pending.out" \
  || fail "the pending group: $(cat "$work/pending.out")"
echo "ok: a STRICT_SPREAD group needing 5 of 4 nodes stayed PENDING, listed with why"

# Every bundle given back: nothing in use.
cpus_idle() {
  cli idle 15 --address "$address" status \
    && grep -Eq '^cluster: 4 of 4 nodes alive  CPU 0/8' "$work/idle.out"
}
eventually 20 "removed groups kept their resources" cpus_idle
echo "ok: removed groups gave their resources back"

# -- a node with a bundle dies: the group is placed again --------------------
start_app moved pg strict_spread 2 pool 20 hold "$work/go-moved" 40
moved=$last_pid
wait_for_line moved "$moved" '^holding$' 60
grep -qx 'state CREATED' "$work/moved.out" \
  || fail "the pool group: $(cat "$work/moved.out")"
read -r -a before <<<"$(bundle_nodes moved)"
victim=
for w in w1 w2 w3; do
  [[ $(node_id_of "$w") == "${before[0]}" ]] && victim=$w
done
[[ -n $victim ]] || fail "bundle 0 is on no worker: ${before[*]}"
kill -KILL "${pid_of[$victim]}"
wait_exit "${pid_of[$victim]}" 10
touch "$work/go-moved"
finish_app moved "$moved" 90
grep -qx 'after CREATED' "$work/moved.out" \
  || fail "after the node died: $(cat "$work/moved.out")"
after=$(sed -n 's/^nodes //p' "$work/moved.out" | tail -1)
[[ $after != *"${before[0]}"* ]] \
  || fail "a bundle stayed on the dead node: $after"
read -r -a now <<<"$after"
grep -qx "bundle 0 ${now[0]}" "$work/moved.out" \
  || fail "the task in the moved bundle: $(cat "$work/moved.out")"
[[ ${now[1]} == "${before[1]}" ]] \
  || fail "bundle 1 moved although its node lives: ${before[*]} -> $after"
grep -q 'placement group lost bundles; placing them again' "$work/head.err" \
  || fail "the head did not log the rescheduling"
echo "ok: a group whose node was killed placed its lost bundle again (the other"
echo "ok: stayed); its task ran on the new node"
