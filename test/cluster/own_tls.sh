#!/usr/bin/env bash
# TLS by default: daemons, drivers and the CLI given no TLS options use
# their user's own files in ~/.caraway/tls, made once by whichever starts
# first (here the head and a worker start together). Another user (another
# home, so another CA), a driver with --caraway-insecure-loopback and a
# plaintext data request are refused; files others could read, contradicting
# options and a TLS directory without its files stop a process with an
# error naming them. The cluster serves on after each.
#
#   own_tls.sh <bin dir>
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
require "$node" "$bin_dir/fib"
own=$HOME/.caraway/tls
[[ ! -e $own ]] || fail "the test's home has TLS files already"

# The head and a worker start at once: both look for the files, one makes
# them under the lock, and both use the same CA.
pick_port
data_port=$free
pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --data-port "$data_port" --num-cpus 2 \
  "${timing[@]}"
head=$last_pid
start worker "$node" --role worker --head-address "$address" --num-cpus 1 \
  --connect-timeout-ms 20000 "${timing[@]}"
wait_listening head "$head"
wait_listening worker "$last_pid"
wait_alive_nodes 2
mode() { stat -c %a "$1"; }
[[ $(mode "$own") == 700 ]] || fail "$own has mode $(mode "$own")"
for key in ca node client; do
  [[ $(mode "$own/$key.key") == 600 ]] \
    || fail "$own/$key.key has mode $(mode "$own/$key.key")"
done
[[ $(grep -c "BEGIN CERTIFICATE" "$own/ca.pem") == 1 ]] \
  || fail "ca.pem is not one certificate"

run fib 60 "$bin_dir/fib" --caraway-address "$address"
((status == 0)) || fail "fib exited with $status: $(tail -3 "$work/fib.err")"
grep -qx 'fib(20) = 6765' "$work/fib.out" || fail "fib printed $(cat "$work/fib.out")"
echo "ok: nodes, a driver and the CLI given no TLS options share this user's files"

# Another local user has a CA of its own: refused at the handshake.
mkdir -p "$work/other"
run other 30 env HOME="$work/other" "$bin_dir/fib" \
  --caraway-address "$address" --caraway-connect-timeout-ms 2000
((status == 1)) || fail "another user's driver exited with $status"
grep -q "TLS handshake failed" "$work/other.err" \
  || fail "unclear error: $(cat "$work/other.err")"
[[ -f $work/other/.caraway/tls/ca.pem ]] \
  || fail "the other user got no files of its own"
cmp -s "$own/ca.pem" "$work/other/.caraway/tls/ca.pem" \
  && fail "two homes got the same CA"
# A driver without TLS gets no greeting: the node waits for TLS.
run plain 30 "$bin_dir/fib" --caraway-address "$address" \
  --caraway-insecure-loopback --caraway-connect-timeout-ms 2000
((status == 1)) || fail "a driver without TLS exited with $status"
grep -q "no greeting.*not insecure-loopback" "$work/plain.err" \
  || fail "unclear error: $(cat "$work/plain.err")"
cli plain_cli 30 --address "$address" --timeout-ms 2000 \
  --caraway-insecure-loopback status
((status != 0)) || fail "caraway status without TLS answered"
grep -q "no greeting" "$work/plain_cli.err" \
  || fail "unclear error: $(cat "$work/plain_cli.err")"
# Nor does the data port answer plaintext.
run plain_pull 30 "$tcp" request 127.0.0.1 "$data_port"
grep -qx "peer closed without answering" "$work/plain_pull.out" \
  || fail "the data port answered plaintext: $(cat "$work/plain_pull.out")"
# Random bytes on the head's port end in a refused handshake, logged with
# the cause; a client that connects and says nothing is closed once the
# handshake timeout (the heartbeat timeout) has passed, and the head does
# not spin meanwhile (CAF 0.17 retries a pending handshake whenever the
# socket is writable).
head_port=${address##*:}
run garbage 30 "$tcp" garbage 127.0.0.1 "$head_port" 65536
grep -qx "peer closed" "$work/garbage.out" \
  || fail "the head kept a connection of garbage open"
eventually 10 "the head did not log the refused garbage" \
  grep -q "refusing a TLS connection.*another protocol" "$work/head.err"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
before=$(cpu_ticks "$head")
run silent 30 "$tcp" silent 127.0.0.1 "$head_port"
after=$(cpu_ticks "$head")
grep -qx "peer closed" "$work/silent.out" \
  || fail "the head kept a silent connection open"
((elapsed_ms >= 1500)) || fail "the silent client was closed after $elapsed_ms ms"
ticks_per_s=$(getconf CLK_TCK)
((after - before < elapsed_ms * ticks_per_s / 2000)) \
  || fail "the head used $((after - before)) ticks of CPU in $elapsed_ms ms"
grep -q "TLS handshake did not finish in time" "$work/head.err" \
  || fail "the head did not log the silent client"
echo "ok: another user, a driver without TLS, a plaintext pull, garbage and a silent client are refused"

# The same directory named explicitly works; one without files, and
# options that contradict each other, are errors naming the cause.
run named 60 "$bin_dir/fib" --caraway-address "$address" \
  --caraway-tls-dir "$own"
((status == 0)) || fail "fib with --caraway-tls-dir exited with $status"
run missing 30 "$bin_dir/fib" --caraway-address "$address" \
  --caraway-tls-dir "$work/nowhere"
((status == 1)) || fail "a missing TLS dir gave exit $status"
grep -q "'$work/nowhere' has no ca.pem" "$work/missing.err" \
  || fail "unclear error: $(cat "$work/missing.err")"
pick_port
start both "$node" --port "$free" --insecure-loopback \
  --tls-ca "$own/ca.pem" --tls-cert "$own/node.pem" --tls-key "$own/node.key"
expect_exit both "$last_pid" 30 2 "insecure-loopback turns TLS off"
# Files others can read are refused, as ssh refuses such keys.
chmod 644 "$own/node.key"
pick_port
start readable "$node" --port "$free"
expect_exit readable "$last_pid" 30 2 "node.key' has mode 0644"
chmod 600 "$own/node.key"
chmod 755 "$own"
run open_dir 30 "$cli" --address "$address" status
((status != 0)) || fail "a readable TLS directory was used"
grep -q "tls' has mode 0755" "$work/open_dir.err" \
  || fail "unclear error: $(cat "$work/open_dir.err")"
chmod 700 "$own"
echo "ok: bad TLS options stop a process with the cause"

wait_alive_nodes 2
run fib_after 60 "$bin_dir/fib" --caraway-address "$address"
((status == 0)) || fail "fib after the refusals exited with $status"
echo "ok: the cluster serves on"
echo "PASS"
