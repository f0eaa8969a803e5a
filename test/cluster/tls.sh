#!/usr/bin/env bash
# A cluster on mutual TLS, with certificates from `caraway tls init`: nodes,
# workers, drivers and the CLI all show one the cluster's CA signed. A node
# of another CA, a driver without TLS, a plaintext request on a data port
# and a daemon asked to listen beyond loopback without TLS are refused, and
# the cluster serves on after each.
#
#   tls.sh <bin dir> <cluster app> <its task library>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app" "$library" "$bin_dir/fib"

for dir in tls rogue; do
  run "init_$dir" 30 "$cli" tls init "$work/$dir"
  ((status == 0)) || fail "tls init exited with $status: $(cat "$work/init_$dir.err")"
done
node_tls=(--tls-ca "$work/tls/ca.pem" --tls-cert "$work/tls/node.pem"
  --tls-key "$work/tls/node.key")
# Drivers and the CLI take theirs from the environment.
export CARAWAY_TLS_CA=$work/tls/ca.pem
export CARAWAY_TLS_CERT=$work/tls/client.pem
export CARAWAY_TLS_KEY=$work/tls/client.key

# Heartbeats every 200 ms: a link that TLS would drop shows within seconds.
pick_port
data_port=$free
pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --data-port "$data_port" --num-cpus 2 \
  --libraries "$library" "${node_tls[@]}" "${timing[@]}"
head=$last_pid
wait_listening head "$head"
start worker_ssd "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources ssd:2 --libraries "$library" "${node_tls[@]}" \
  "${timing[@]}"
wait_listening worker_ssd "$last_pid"
start worker_tpu "$node" --role worker --head-address "$address" \
  --num-cpus 1 --resources tpu:1 --libraries "$library" "${node_tls[@]}" \
  "${timing[@]}"
wait_listening worker_tpu "$last_pid"
ssd_id=$(node_id_of worker_ssd)
tpu_id=$(node_id_of worker_tpu)
wait_alive_nodes 3

run_app where 60 where
expect_where where
run fib 60 "$bin_dir/fib" --caraway-address "$address"
((status == 0)) || fail "fib exited with $status: $(tail -3 "$work/fib.err")"
grep -qx 'fib(20) = 6765' "$work/fib.out" || fail "fib printed $(cat "$work/fib.out")"
echo "ok: tasks run on a TLS cluster"

# A node whose certificate another CA signed is refused at the handshake.
start rogue "$node" --role worker --head-address "$address" --num-cpus 1 \
  --connect-timeout-ms 3000 --tls-ca "$work/rogue/ca.pem" \
  --tls-cert "$work/rogue/node.pem" --tls-key "$work/rogue/node.key"
expect_exit rogue "$last_pid" 30 1 "TLS handshake failed"

# So is a driver with no TLS, and one with the other CA's certificate.
run plain 30 env -u CARAWAY_TLS_CA -u CARAWAY_TLS_CERT -u CARAWAY_TLS_KEY \
  "$bin_dir/fib" --caraway-address "$address" --caraway-insecure-loopback \
  --caraway-connect-timeout-ms 2000
# Exit 1 with the error, not an abort: the examples catch caraway errors.
((status == 1)) || fail "a driver without TLS exited with $status, not 1"
grep -q "no greeting" "$work/plain.err" \
  || fail "unclear error: $(cat "$work/plain.err")"
run other_ca 30 env CARAWAY_TLS_CA="$work/rogue/ca.pem" \
  CARAWAY_TLS_CERT="$work/rogue/client.pem" \
  CARAWAY_TLS_KEY="$work/rogue/client.key" \
  "$bin_dir/fib" --caraway-address "$address" \
  --caraway-connect-timeout-ms 2000
((status == 1)) || fail "a driver of another CA exited with $status, not 1"
grep -q "TLS handshake failed" "$work/other_ca.err" \
  || fail "unclear error: $(cat "$work/other_ca.err")"
echo "ok: a node and drivers without the cluster's certificates are refused"

# The object data path is on TLS too: a plaintext request for an object is
# closed unanswered. A plaintext node answers the same request, so the
# probe can tell the two apart.
run plain_pull 30 "$tcp" request 127.0.0.1 "$data_port"
grep -qx "peer closed without answering" "$work/plain_pull.out" \
  || fail "the TLS data port answered plaintext: $(cat "$work/plain_pull.out")"
pick_port
plain_data=$free
pick_port
start plain_head "$node" --port "$free" --data-port "$plain_data" \
  --num-cpus 1 --insecure-loopback
plain_head=$last_pid
wait_listening plain_head "$plain_head"
run plain_answer 30 "$tcp" request 127.0.0.1 "$plain_data"
grep -qx "answered status 1" "$work/plain_answer.out" \
  || fail "a plaintext data port did not answer: $(cat "$work/plain_answer.out")"
kill -TERM "$plain_head"
expect_exit plain_head "$plain_head" 15 0
grep -q "refusing a data connection: TLS handshake failed" "$work/head.err" \
  || fail "the head did not log the refused data connection"
echo "ok: the data port refuses plaintext"

# Without TLS, a daemon listens on loopback only; incomplete TLS files are
# a configuration error too.
pick_port
start open "$node" --host 0.0.0.0 --port "$free" --insecure-loopback
expect_exit open "$last_pid" 30 2 "without TLS.*--tls-ca"
pick_port
start half "$node" --port "$free" --tls-ca "$work/tls/ca.pem"
expect_exit half "$last_pid" 30 2 "missing: tls-cert tls-key"

# The cluster served on through all of that.
wait_alive_nodes 3
run fib_after 60 "$bin_dir/fib" --caraway-address "$address"
((status == 0)) || fail "fib after the refusals exited with $status"
echo "ok: the cluster serves on"
echo "PASS"
