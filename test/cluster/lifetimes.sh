#!/usr/bin/env bash
# cluster.lifetimes: an actor dies with the driver that created it, whether
# the driver ends or is killed, so a program that names an actor runs twice;
# a killed driver's objects on other nodes are freed; tasks on other nodes
# work in their driver's namespace;
# a detached actor outlives its driver and answers the next one; with
# get_if_exists a driver gets the live actor of a name instead of failing;
# an actor that is not detached ends with the last handle to it, one held
# by another driver included.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"

start_cluster "$library"
wait_alive_nodes 3

# list_actor <name>: the `caraway list actors` line of that actor.
list_actor() {
  cli actors 15 --address "$address" list actors
  grep " shared/$1\( \|$\)" "$work/actors.out" || true
}

run_app first 60 make-named tracker
run_app second 60 make-named tracker
grep -qx "created tracker total 5" "$work/second.out" \
  || fail "the second run printed: $(cat "$work/second.out" "$work/second.err")"
echo "ok: a program that names an actor ran twice"

start held "$app" hold held --caraway-address "$address"
holder=$last_pid
wait_for_line held "$holder" '^ready$' 60
[[ $(list_actor held) == *" alive "* ]] || fail "held is not alive: $(list_actor held)"
kill -KILL "$holder"
wait_exit "$holder" 10
held_died() { [[ $(list_actor held) == *" dead "*"process that created"* ]]; }
eventually 20 "the killed driver's actor lives on" held_died
echo "ok: a killed driver's actor died with it"

# store_mib <node id>: MiB in use in that node's store, per `caraway status`.
store_mib() {
  cli status 15 --address "$address" status
  sed -n "s|^${1:0:8} .* store \([0-9]*\)/[0-9]* MiB .*|\1|p" "$work/status.out"
}
start data "$app" hold-data --caraway-address "$address"
holder=$last_pid
wait_for_line data "$holder" '^ready$' 60
deadline=$(($(now_ms) + 10000))
until (($(store_mib "$tpu_id") >= 32)); do
  (($(now_ms) < deadline)) \
    || fail "the tpu node's store does not show 32 MiB: $(cat "$work/status.out")"
  sleep 0.1
done
kill -KILL "$holder"
wait_exit "$holder" 10
deadline=$(($(now_ms) + 20000))
until (($(store_mib "$tpu_id") == 0)); do
  (($(now_ms) < deadline)) \
    || fail "a killed driver's objects stay: $(cat "$work/status.out")"
  sleep 0.1
done
echo "ok: a killed driver's 32 MiB on another node was freed"

run_app detached 60 make-detached keeper
run_app user 60 use-named keeper
grep -qx "found keeper total 12" "$work/user.out" \
  || fail "use-named printed: $(cat "$work/user.out")"
run_app reuse 60 get-or-make keeper
grep -qx "got keeper total 17" "$work/reuse.out" \
  || fail "get-or-make printed: $(cat "$work/reuse.out")"
run_app fresh 60 get-or-make newcomer
grep -qx "got newcomer total 5" "$work/fresh.out" \
  || fail "get-or-make printed: $(cat "$work/fresh.out")"
echo "ok: a detached actor outlived its driver; get_if_exists found it"

# -- the caraway tool finds, shows and ends an actor --------------------------
cli keepers 15 --address "$address" list actors --filter name=keeper \
  --format json
grep -q '"qualified_name": "shared/keeper"' "$work/keepers.out" \
  && (($(grep -c '"id":' "$work/keepers.out") == 1)) \
  || fail "list actors --filter name=keeper: $(cat "$work/keepers.out")"
cli kill_keeper 15 --address "$address" kill --name keeper --namespace shared
((status == 0)) && grep -Eqx 'killed [0-9a-f]{32}' "$work/kill_keeper.out" \
  || fail "kill --name keeper: $(cat "$work/kill_keeper.out" "$work/kill_keeper.err")"
keeper_id=$(sed -n 's/^killed //p' "$work/kill_keeper.out")
cli keeper 15 --address "$address" get actor "${keeper_id:0:20}"
grep -qx 'state: dead' "$work/keeper.out" \
  && grep -qx 'death: the actor was killed' "$work/keeper.out" \
  || fail "get actor after kill: $(cat "$work/keeper.out")"
cli kill_again 15 --address "$address" kill --name keeper --namespace shared
((status == 1)) && grep -q "no actor named 'keeper'" "$work/kill_again.err" \
  || fail "a second kill: exit $status, $(cat "$work/kill_again.err")"
echo "ok: caraway list --filter, kill --name and get actor"

# -- an actor ends with the last handle to it, wherever that is ---------------
start_app lender lend "$work/lent"
lender=$last_pid
wait_for_line lender "$lender" '^ready$' 60
start_app borrower borrow-named "$work/lent"
borrower=$last_pid
wait_for_line borrower "$borrower" '^holding 3$' 60
touch "$work/lent"
wait_for_line lender "$lender" '^dropped$' 30
touch "$work/lent-dropped"
finish_app borrower "$borrower" 60
grep -qx "after-drop 7" "$work/borrower.out" \
  || fail "borrow-named printed: $(cat "$work/borrower.out" "$work/borrower.err")"
echo "ok: a handle another driver holds keeps an actor alive after its creator let go"
lent_ended() { [[ $(list_actor lent) == *" dead "*"every handle"*"is gone"* ]]; }
eventually 20 "the actor outlived its last handle" lent_ended
running "$lender" || fail "the creator exited early"
touch "$work/lent-done"
wait_exit "$lender" 30
echo "ok: the actor ended with its last handle while its creator ran on"

run_app namespace 60 namespace --caraway-namespace team
for line in "driver-ns team" "task-ns team" "found-in-ns 1"; do
  grep -qx "$line" "$work/namespace.out" \
    || fail "namespace printed: $(cat "$work/namespace.out" "$work/namespace.err")"
done
echo "ok: a task on another node works in its driver's namespace"
echo "PASS"
