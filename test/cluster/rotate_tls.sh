#!/usr/bin/env bash
# Moving a running cluster to a new CA, as the README's Security section
# says: every node restarted to trust both CAs (a CA file holding both),
# then restarted one by one with certificates of the new CA, then with the
# new CA alone. Drivers of either CA run throughout the move; at its end a
# driver with the old CA's certificate is refused. The head keeps the
# cluster's tables in its data dir, so the cluster lives on through its
# restarts (it is killed and started again: a head asked to stop would stop
# the cluster).
#
#   rotate_tls.sh <bin dir>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
require "$node" "$bin_dir/fib"

for dir in old new; do
  run "init_$dir" 30 "$cli" tls init "$work/$dir"
  ((status == 0)) || fail "tls init exited with $status"
done
cat "$work/old/ca.pem" "$work/new/ca.pem" >"$work/both.pem"

pick_port
head_port=$free
address=127.0.0.1:$head_port
pick_port
head_data=$free
# start_node <name> <ca> <cert dir> <args...>: a daemon with that CA file
# and the node certificate of that directory; sets `last_pid`.
start_node() {
  local name=$1 ca=$2 certs=$3
  shift 3
  start "$name" "$node" --tls-ca "$ca" --tls-cert "$certs/node.pem" \
    --tls-key "$certs/node.key" "${timing[@]}" "$@"
  wait_listening "$name" "$last_pid"
}
start_head() { # <name> <ca> <cert dir>
  start_node "$1" "$2" "$3" --port "$head_port" --data-port "$head_data" \
    --num-cpus 2 --data-dir "$work/head-data"
  head=$last_pid
}
start_worker() { # <name> <ca> <cert dir>
  start_node "$1" "$2" "$3" --role worker --head-address "$address" \
    --num-cpus 1 --connect-timeout-ms 20000
  worker=$last_pid
}
stop_node() { # <name> <pid>
  kill -TERM "$2"
  expect_exit "$1" "$2" 20 0
}
# The head is killed, not stopped: a head asked to stop stops the cluster,
# one that ends otherwise is waited for, and takes its nodes back from its
# data dir when it restarts.
kill_head() { # <name>
  kill -KILL "$head"
  wait_exit "$head" 20
  echo "ok: killed $1"
}
# fib_with <name> <ca> <cert dir>: a driver with the client certificate of
# that directory; sets `status`.
fib_with() {
  run "$1" 60 env CARAWAY_TLS_CA="$2" CARAWAY_TLS_CERT="$3/client.pem" \
    CARAWAY_TLS_KEY="$3/client.key" "$bin_dir/fib" \
    --caraway-address "$address" --caraway-connect-timeout-ms 5000
}
# cli_as <ca> <cert dir>: the caraway tool's TLS files from now on.
cli_as() {
  export CARAWAY_TLS_CA=$1 CARAWAY_TLS_CERT=$2/client.pem
  export CARAWAY_TLS_KEY=$2/client.key
}
expect_fib() { # <name> <ca> <cert dir>
  fib_with "$@"
  ((status == 0)) || fail "$1 exited with $status: $(tail -3 "$work/$1.err")"
  grep -qx 'fib(20) = 6765' "$work/$1.out" || fail "$1 printed $(cat "$work/$1.out")"
}

cli_as "$work/old/ca.pem" "$work/old"
start_head head_old "$work/old/ca.pem" "$work/old"
start_worker worker_old "$work/old/ca.pem" "$work/old"
wait_alive_nodes 2
expect_fib fib_old "$work/old/ca.pem" "$work/old"
echo "ok: a cluster of the old CA"

# 1. Every node trusts both CAs.
kill_head head_old
stop_node worker_old "$worker"
cli_as "$work/both.pem" "$work/old"
start_head head_both "$work/both.pem" "$work/old"
start_worker worker_both "$work/both.pem" "$work/old"
wait_alive_nodes 2
expect_fib fib_new_client "$work/both.pem" "$work/new"
echo "ok: nodes trusting both CAs take a driver of the new one"

# 2. Nodes take certificates of the new CA, one by one: meanwhile nodes of
# both CAs work together.
kill_head head_both
start_head head_new_cert "$work/both.pem" "$work/new"
wait_alive_nodes 2
expect_fib fib_mixed "$work/both.pem" "$work/old"
stop_node worker_both "$worker"
start_worker worker_new_cert "$work/both.pem" "$work/new"
wait_alive_nodes 2
echo "ok: nodes of the old and the new CA work together"

# 3. The old CA goes.
kill_head head_new_cert
cli_as "$work/new/ca.pem" "$work/new"
start_head head_new "$work/new/ca.pem" "$work/new"
stop_node worker_new_cert "$worker"
start_worker worker_new "$work/new/ca.pem" "$work/new"
wait_alive_nodes 2
expect_fib fib_new "$work/new/ca.pem" "$work/new"
fib_with fib_refused "$work/old/ca.pem" "$work/old"
((status == 1)) || fail "a driver of the old CA exited with $status"
grep -q "TLS handshake failed" "$work/fib_refused.err" \
  || fail "unclear error: $(cat "$work/fib_refused.err")"
echo "ok: after the move, a driver of the old CA is refused"
echo "PASS"
