#!/usr/bin/env bash
# The chaos run: a head and two workers on 127.0.0.1, the caraway-chaos
# driver's mixed workload (tasks with retries, actors with restarts, objects
# rebuilt by lineage), and a worker killed with SIGKILL every few seconds
# and started again on its port. Prints the driver's counts; fails unless
# nothing was lost, wrong or hung.
#
#   apps/chaos/chaos.sh SECONDS [BIN_DIR] [LIB_DIR]
#
# BIN_DIR holds caraway-node and caraway-chaos (default build/bin), LIB_DIR
# libcaraway-chaos_tasks.so (default build/lib).
set -euo pipefail

seconds=${1:?usage: chaos.sh SECONDS [BIN_DIR] [LIB_DIR]}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${2:-$root/build/bin}
lib=${3:-$root/build/lib}
library=$lib/libcaraway-chaos_tasks.so
for f in "$bin/caraway-node" "$bin/caraway-chaos" "$library"; do
  [[ -e $f ]] || { echo "chaos: $f is missing: build it first" >&2; exit 1; }
done

work=$(mktemp -d -t caraway-chaos.XXXXXX)
pids=()
cleanup() {
  local rc=$? pid
  trap - EXIT
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if ((rc != 0)); then
    for f in "$work"/*.err; do
      [[ -s $f ]] && { echo "--- $(basename "$f")"; tail -n 20 "$f"; }
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

# A loopback port nothing listens on, below the ephemeral range.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}

# wait_line <file> <regex> <seconds>
wait_line() {
  local deadline=$(($(now_ms) + $3 * 1000))
  until grep -Eq -- "$2" "$1" 2>/dev/null; do
    (($(now_ms) < deadline)) || { echo "chaos: no '$2' in $1" >&2; exit 1; }
    sleep 0.1
  done
}

# Heartbeats every 200 ms, a node silent for 2 s is gone; with
# CARAWAY_TEST_WORKER_MODE=threads|processes, that worker mode.
node_opts=(--heartbeat-interval-ms 200 --heartbeat-timeout-ms 2000)
if [[ -n ${CARAWAY_TEST_WORKER_MODE:-} ]]; then
  node_opts+=(--worker-mode "$CARAWAY_TEST_WORKER_MODE")
fi
head_port=$(free_port)
address=127.0.0.1:$head_port
"$bin/caraway-node" --port "$head_port" --num-cpus 1 --libraries "$library" \
  "${node_opts[@]}" >"$work/head.out" 2>"$work/head.err" &
pids+=($!)
wait_line "$work/head.out" "listening" 30

# start_worker <index>: starts worker <index> on its port; sets worker_pid.
worker_ports=("$(free_port)" "$(free_port)")
worker_pids=(0 0)
start_worker() {
  local i=$1
  "$bin/caraway-node" --role worker --head-address "$address" \
    --port "${worker_ports[$i]}" --num-cpus 2 --resources pool:2 \
    --libraries "$library" "${node_opts[@]}" \
    >"$work/worker$i.out" 2>>"$work/worker$i.err" &
  worker_pids[i]=$!
  pids+=($!)
}
for i in 0 1; do
  start_worker "$i"
  wait_line "$work/worker$i.out" "listening" 30
  : >"$work/worker$i.out"
done

"$bin/caraway-chaos" "$seconds" "$work/kills" --caraway-address "$address" \
  >"$work/driver.out" 2>"$work/driver.err" &
driver=$!
pids+=("$driver")

# Every 3-5 s a random worker dies and comes back on its port.
kills=0
: >"$work/kills"
while kill -0 "$driver" 2>/dev/null; do
  sleep "$((3 + RANDOM % 3))"
  kill -0 "$driver" 2>/dev/null || break
  i=$((RANDOM % 2))
  now_ms >>"$work/kills"
  kill -KILL "${worker_pids[$i]}" 2>/dev/null || true
  wait "${worker_pids[$i]}" 2>/dev/null || true
  kills=$((kills + 1))
  start_worker "$i"
  wait_line "$work/worker$i.out" "listening" 30
  : >"$work/worker$i.out"
done
status=0
wait "$driver" || status=$?
cat "$work/driver.out"
echo "chaos_kills $kills"
((kills > 0)) || { echo "chaos: no worker was killed" >&2; exit 1; }
((status == 0)) || { echo "chaos: the driver failed ($status)" >&2; exit 1; }
