#!/usr/bin/env bash
# cluster.garbage: random bytes sent to the head's port do not bring it down,
# nor does a message header announcing 1 GiB, which the head refuses before
# allocating it; afterwards the caraway tool still gets answers and the head
# still stops cleanly.
set -euo pipefail
# The bytes go to CAF's own protocol, which a TLS port keeps from anyone
# without the cluster's certificate (own_tls.sh sends them there): this
# cluster runs without TLS, as a peer holding a valid certificate that sends
# garbage would reach it.
export CARAWAY_TEST_INSECURE=1
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"
require "$node"

pick_port
address=127.0.0.1:$free
start head "$node" --role head --host 127.0.0.1 --port "$free" --num-cpus 1
head=$last_pid
wait_listening head "$head"

check_nodes() {
  cli nodes 15 --address "$address" list nodes
  ((status == 0)) || fail "caraway list nodes exited with $status ($1)"
  grep -q " alive " "$work/nodes.out" \
    || fail "caraway list nodes shows no alive node ($1)"
}
check_nodes "before the garbage"

for round in 1 2 3 4; do
  start "garbage_$round" "$tcp" garbage 127.0.0.1 "$free" 65536
  wait_exit "$last_pid" 15
  ((status == 0)) || fail "caraway-test-tcp garbage exited with $status"
  # The head closing the connection means it read every byte.
  grep -qx "peer closed" "$work/garbage_$round.out" \
    || fail "the head kept a connection of garbage open (round $round)"
  running "$head" || fail "the head died after $round rounds of garbage"
done
echo "ok: sent 4 x 64 KiB of random bytes; the head dropped each connection"

# Peak memory (VmHWM) of a process, in KiB.
peak_kib() {
  awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}
before=$(peak_kib "$head")
for round in 1 2 3; do
  run "announce_$round" 30 "$tcp" announce 127.0.0.1 "$free" $((1 << 30))
  ((status == 0)) || fail "caraway-test-tcp announce exited with $status"
  grep -qx "peer closed" "$work/announce_$round.out" \
    || fail "the head kept a connection announcing 1 GiB open (round $round)"
done
after=$(peak_kib "$head")
# Allocating even one of the payloads would have added 1 GiB.
((after - before < 256 * 1024)) \
  || fail "the head's peak memory grew from $before to $after KiB"
grep -q "larger than max-message-bytes bytes=1073741824" "$work/head.err" \
  || fail "the head did not log why it closed the connections"
echo "ok: 3 headers announcing 1 GiB each; peak memory $before -> $after KiB"
check_nodes "after the garbage"
echo "ok: the head still answers"

cli stop 15 --address "$address" stop
((status == 0)) || fail "caraway stop exited with $status"
expect_exit head "$head" 15 0
echo "PASS"
