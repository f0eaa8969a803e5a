#!/usr/bin/env bash
# cluster.node_pairs: worker nodes that join together reach each other. Each
# round starts two workers at once, so that each learns of the other from
# the head at the same moment; then a task on each runs a task that only the
# other can run, and waits for it. With threads, that task's lease request
# goes from one worker node straight to the other's raylet: it must be
# answered both ways, in every round.
#
#   node_pairs.sh <bin dir> <cluster app> <its task library>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$library"
rounds=${CARAWAY_TEST_ROUNDS:-8}

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 1 --libraries "$library"
wait_listening head "$last_pid"
for round in $(seq 1 "$rounds"); do
  start "ssd_$round" "$node" --role worker --head-address "$address" \
    --num-cpus 1 --resources ssd:1 --libraries "$library"
  ssd=$last_pid
  start "tpu_$round" "$node" --role worker --head-address "$address" \
    --num-cpus 1 --resources tpu:1 --libraries "$library"
  tpu=$last_pid
  wait_listening "ssd_$round" "$ssd"
  wait_listening "tpu_$round" "$tpu"
  ssd_id=$(node_id_of "ssd_$round")
  tpu_id=$(node_id_of "tpu_$round")
  wait_alive_nodes 3
  run "across_$round" 60 "$app" across --caraway-address "$address"
  ((status == 0)) \
    || fail "round $round: the driver exited with $status: $(tail -3 "$work/across_$round.err")"
  grep -qx "across $ssd_id $tpu_id" "$work/across_$round.out" \
    && grep -qx "across $tpu_id $ssd_id" "$work/across_$round.out" \
    || fail "round $round: $(cat "$work/across_$round.out")"
  kill -TERM "$ssd" "$tpu"
  expect_exit "ssd_$round" "$ssd" 15 0
  expect_exit "tpu_$round" "$tpu" 15 0
  wait_alive_nodes 1
done
echo "ok: worker nodes called each other both ways in $rounds rounds"
echo "PASS"
