#!/usr/bin/env bash
# cluster.formation: a head and two workers with different custom resources
# form one cluster that the caraway tool sees; `caraway stop` then ends all
# three daemons cleanly. The head and one worker start from the example
# configs in config/, with command-line options that win over them.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"
require "$node"

config_dir=$(cd "$(dirname "$0")/../../config" && pwd)
pick_port
address=127.0.0.1:$free

start head "$node" --config "$config_dir/head.ini" --host 127.0.0.1 \
  --port "$free" --num-cpus 2 --metrics-port 0
head=$last_pid
wait_listening head "$head"
grep -q "^caraway-node head listening on $address " "$work/head.out" \
  || fail "head does not listen on $address"

# Workers take any free port (the default, 0).
start worker_ssd "$node" --role worker --host 127.0.0.1 \
  --head-address "$address" --num-cpus 1 --resources ssd:2 --metrics-port 0
worker_ssd=$last_pid
start worker_tpu "$node" --config "$config_dir/worker.ini" --host 127.0.0.1 \
  --head-address "$address" --num-cpus 1 --resources tpu:1
worker_tpu=$last_pid
wait_listening worker_ssd "$worker_ssd"
wait_listening worker_tpu "$worker_tpu"

deadline=$(($(now_ms) + 30000))
while :; do
  cli nodes 15 --address "$address" --timeout-ms 3000 list nodes
  alive=$(grep -c ' alive ' "$work/nodes.out" || true)
  ((status == 0 && alive == 3)) && break
  (($(now_ms) < deadline)) \
    || fail "no 3 alive nodes after 30 s (last: exit $status, $alive alive)"
  sleep 0.1
done
echo "ok: 3 alive nodes"
cat "$work/nodes.out"
# Log lines carry the date, level, pid and component, on stderr and in a
# file per component under the node's session directory.
line="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z INFO $head \\[gcs\\] node joined "
grep -Eq "$line" "$work/head.err" \
  || fail "log lines without date or pid: $(head -3 "$work/head.err")"
head_logs=$work/caraway-session-$(node_id_of head)/logs
grep -Eq "$line" "$head_logs/gcs.log" \
  || fail "no gcs.log with the joins in $head_logs: $(ls "$head_logs")"
grep -q "\[runtime\] head node started" "$head_logs/runtime.log" \
  || fail "no runtime.log in $head_logs: $(ls "$head_logs")"
grep -q "\[gcs\]" "$head_logs/runtime.log" \
  && fail "runtime.log holds another component's lines"
echo "ok: log lines in files per component: $(cd "$head_logs" && echo *.log)"

# caraway logs --component: the end of one of a node's log files, from
# its daemon; a name that is not one of them is refused, naming those
# there are, and so is a path.
head_id=$(node_id_of head)
cli gcs_log 15 --address "$address" logs --node "${head_id:0:8}" \
  --component gcs --tail 2
((status == 0)) || fail "logs --component gcs: $(cat "$work/gcs_log.err")"
[[ $(wc -l <"$work/gcs_log.out") == 2 ]] \
  && grep -Eq "^[0-9T:.Z-]+ INFO $head \[gcs\] node joined" "$work/gcs_log.out" \
  || fail "logs --component gcs --tail 2: $(cat "$work/gcs_log.out")"
for name in nothing ../../etc/passwd; do
  cli bad_log 15 --address "$address" logs --node "${head_id:0:8}" \
    --component "$name"
  ((status == 1)) && grep -q "no log of '$name' in .*; there are:.* gcs.* runtime" \
    "$work/bad_log.err" \
    || fail "logs --component $name: exit $status, $(cat "$work/bad_log.err")"
done
cli any_log 15 --address "$address" logs --component gcs
((status == 2)) && grep -q "3 live nodes: name one with --node" "$work/any_log.err" \
  || fail "logs --component without --node: $(cat "$work/any_log.err")"
echo "ok: caraway logs --component shows the end of a node's log file"

# Prometheus metrics: the head's show the cluster, a worker's its node.
head_metrics=$(metrics_port head)
ssd_metrics=$(metrics_port worker_ssd)
[[ -n $head_metrics && -n $ssd_metrics ]] \
  || fail "no metrics port in the start lines"
http_get 5 "$head_metrics" /metrics >"$work/head_metrics.txt" \
  || fail "GET /metrics on the head failed"
grep -qx 'caraway_cluster_nodes{state="ALIVE"} 3' "$work/head_metrics.txt" \
  && grep -q '^# TYPE caraway_node_resources_total gauge$' "$work/head_metrics.txt" \
  || fail "the head's metrics: $(cat "$work/head_metrics.txt")"
http_get 5 "$ssd_metrics" /metrics >"$work/ssd_metrics.txt" \
  || fail "GET /metrics on a worker failed"
grep -q '^caraway_node_resources_total{node="[0-9a-f]*",resource="ssd"} 2$' \
  "$work/ssd_metrics.txt" \
  && ! grep -q '^caraway_cluster_nodes' "$work/ssd_metrics.txt" \
  || fail "the worker's metrics: $(cat "$work/ssd_metrics.txt")"
echo "ok: the head's /metrics count 3 alive nodes; a worker's show its ssd"

cli status 15 --address "$address" status
((status == 0)) || fail "caraway status exited with $status"
cat "$work/status.out"
total=$(grep '^cluster: ' "$work/status.out") \
  || fail "caraway status printed no cluster line"
for want in '3 of 3 nodes alive' ' CPU [0-9.]+/4( |$)' ' ssd [0-9.]+/2( |$)' \
            ' tpu [0-9.]+/1( |$)'; do
  grep -Eq -- "$want" <<<"$total" || fail "cluster line lacks '$want'"
done
grep -Eq '^pending tasks: [0-9]+$' "$work/status.out" \
  || fail "caraway status printed no pending tasks"
echo "ok: status shows the cluster's resources"

cli stop 15 --address "$address" stop
((status == 0)) || fail "caraway stop exited with $status"
grep -q '^stopping 3 nodes$' "$work/stop.out" \
  || fail "caraway stop printed: $(cat "$work/stop.out")"
expect_exit head "$head" 15 0
expect_exit worker_ssd "$worker_ssd" 15 0
expect_exit worker_tpu "$worker_tpu" 15 0
echo "PASS"
