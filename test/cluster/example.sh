#!/usr/bin/env bash
# cluster.example.<name>: runs an example, unchanged, as the driver of a
# three-node cluster (a head and two workers with different custom
# resources, all loading the example's task library) and prints its output
# for CTest to check.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
example=$2
library=$3
require "$node" "$example"

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 2 --libraries "$library"
head=$last_pid
wait_listening head "$head"
start worker_a "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources ssd:2 --libraries "$library"
wait_listening worker_a "$last_pid"
start worker_b "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources tpu:1 --libraries "$library"
wait_listening worker_b "$last_pid"

start driver "$example" --caraway-address "$address"
wait_exit "$last_pid" 120
cat "$work/driver.out"
((status == 0)) || fail "the example exited with $status"

cli stop 15 --address "$address" stop
expect_exit head "$head" 15 0
echo "PASS"
