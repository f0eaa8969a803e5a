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

start_cluster "$library"

start driver "$example" --caraway-address "$address"
wait_exit "$last_pid" 120
cat "$work/driver.out"
((status == 0)) || fail "the example exited with $status"

cli stop 15 --address "$address" stop
expect_exit head "$head" 15 0
echo "PASS"
