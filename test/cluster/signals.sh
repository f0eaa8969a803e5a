#!/usr/bin/env bash
# cluster.signals: a head stops cleanly (exit 0) on SIGTERM, another one on
# SIGINT.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"
require "$node"

for signal in TERM INT; do
  pick_port
  start "head_$signal" "$node" --role head --host 127.0.0.1 --port "$free" \
    --num-cpus 1
  pid=$last_pid
  wait_listening "head_$signal" "$pid"
  kill "-$signal" "$pid"
  expect_exit "head_$signal" "$pid" 15 0
done
echo "PASS"
