#!/usr/bin/env bash
# cluster.driver_errors: a driver pointed at a closed port, or at a port
# that does not speak caraway, fails with a clear error within its connect
# timeout instead of hanging; a task whose function a node lacks fails with
# an error naming the function and the node, and the node keeps serving. A
# driver's data server listens on --caraway-data-port, or says why not.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"

run_driver() { # <name> <seconds> <args...>
  local name=$1 seconds=$2
  shift 2
  run "$name" "$seconds" "$app" "$@"
}

pick_port
closed=$free
run_driver closed 15 where --caraway-address "127.0.0.1:$closed" \
  --caraway-connect-timeout-ms 2000
((status == 1)) || fail "driver at a closed port exited with $status"
grep -q "cannot reach the head at 127.0.0.1:$closed" "$work/closed.err" \
  || fail "unclear error: $(cat "$work/closed.err")"
echo "ok: closed port fails in $elapsed_ms ms"

pick_port
silent_port=$free
start silent "$tcp" listen "$free"
wait_for_port() {
  local deadline=$(($(now_ms) + 10000))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    (($(now_ms) < deadline)) || fail "nothing listens on $1"
    sleep 0.1
  done
}
wait_for_port "$free"
run_driver silent_driver 15 where --caraway-address "127.0.0.1:$free" \
  --caraway-connect-timeout-ms 2000
((status == 1)) || fail "driver at a silent port exited with $status"
grep -q "cannot reach the head at 127.0.0.1:$free" \
  "$work/silent_driver.err" \
  || fail "unclear error: $(cat "$work/silent_driver.err")"
((elapsed_ms < 10000)) || fail "giving up took $elapsed_ms ms"
echo "ok: a port that is not caraway fails in $elapsed_ms ms"

pick_port
address=127.0.0.1:$free
start head "$node" --port "$free" --num-cpus 1 --libraries "$library"
head=$last_pid
wait_listening head "$head"
head_id=$(node_id_of head)
run_driver missing 60 missing --caraway-address "$address"
((status == 0)) || fail "missing exited with $status"
grep -q "function 'driver_only' is not registered on .*node $head_id" \
  "$work/missing.out" || fail "missing printed: $(cat "$work/missing.out")"
running "$head" || fail "the head died"
run_driver after 60 make-named after --caraway-address "$address"
((status == 0)) || fail "the next driver exited with $status"
grep -qx "created after total 5" "$work/after.out" \
  || fail "the next driver printed: $(cat "$work/after.out")"
echo "ok: a missing function names itself and the node; the node serves on"

# A driver's data server takes the port it is given: a taken one fails.
run_driver data_port_taken 30 make-named taken --caraway-address "$address" \
  --caraway-host 127.0.0.1 --caraway-data-port "$silent_port"
((status == 1)) || fail "a driver on a taken data port exited with $status"
grep -q "cannot listen for object data on 127.0.0.1:$silent_port" \
  "$work/data_port_taken.err" \
  || fail "unclear error: $(cat "$work/data_port_taken.err")"
pick_port
run_driver data_port 60 make-named ported --caraway-address "$address" \
  --caraway-host 127.0.0.1 --caraway-data-port "$free"
((status == 0)) || fail "a driver with its own data port exited with $status"
echo "ok: a driver's data server listens where --caraway-data-port says"

cli stop 15 --address "$address" stop
expect_exit head "$head" 15 0
echo "PASS"
