#!/usr/bin/env bash
# A scale run on one machine: a head and N-1 workers (`--num-cpus 1` each,
# 32 nodes by default) on 127.0.0.1. Prints how long the nodes took to join,
# the head's CPU share while the cluster idles, and how long 10,000 short
# tasks with the spread strategy took, with the spread of their counts over
# the nodes. Every process it starts is stopped at the end.
#
#   scripts/scale_run.sh [NODES] [TASKS] [TASK_MS]
set -euo pipefail

nodes=${1:-32}
tasks=${2:-10000}
task_ms=${3:-1}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=$root/build/bin
lib=$root/build/lib/libcaraway-cluster-app_tasks.so
for f in "$bin/caraway-node" "$bin/caraway" "$bin/caraway-cluster-app" "$lib"; do
  [[ -e $f ]] || { echo "missing $f: build first" >&2; exit 1; }
done
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
common=(--num-cpus 1 --object-store-memory $((64 << 20)) --libraries "$lib"
        --max-workers 8)

start=$(now_ms)
"$bin/caraway-node" --port 0 "${common[@]}" >"$work/head.out" 2>"$work/head.err" &
head_pid=$!
pids+=("$head_pid")
until grep -q 'listening on' "$work/head.out"; do sleep 0.05; done
address=$(sed -n 's/.* listening on \([^ ]*\) .*/\1/p' "$work/head.out")
for i in $(seq 2 "$nodes"); do
  "$bin/caraway-node" --role worker --head-address "$address" "${common[@]}" \
    >"$work/w$i.out" 2>"$work/w$i.err" &
  pids+=("$!")
done
alive=0
until ((alive == nodes)); do
  sleep 0.1
  alive=$("$bin/caraway" --address "$address" list nodes 2>/dev/null \
            | grep -c ' alive ' || true)
  (($(now_ms) - start < 300000)) || { echo "only $alive of $nodes joined" >&2; exit 1; }
done
echo "nodes_joined $nodes in $(( $(now_ms) - start )) ms"

# The head's CPU time over 10 s of idling, from /proc (clock ticks).
ticks() { awk '{print $14 + $15}' "/proc/$head_pid/stat"; }
hz=$(getconf CLK_TCK)
sleep 2
t0=$(ticks)
sleep 10
t1=$(ticks)
echo "head_idle_cpu_percent $(awk -v d=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.1f", 100 * d / hz / 10 }')"

"$bin/caraway-cluster-app" share "$tasks" "$task_ms" - spread \
  --caraway-address "$address" >"$work/driver.out" 2>"$work/driver.err" \
  || { cat "$work/driver.err" >&2; exit 1; }
echo "tasks $tasks of $task_ms ms: $(sed -n 's/^seconds //p' "$work/driver.out") s"
counts=$(sed -n 's/^share [0-9a-f]* //p' "$work/driver.out" | sort -n)
echo "tasks_per_node: $(wc -l <<<"$counts") nodes, min $(head -1 <<<"$counts"), max $(tail -1 <<<"$counts")"
