#!/usr/bin/env bash
# cluster.cli_errors: the caraway tool fails fast and clearly when there is
# no head: on a closed port, on a port that accepts connections but never
# answers, and on one that answers with random bytes. It also picks the
# address from --address, CARAWAY_ADDRESS and the config file in that order,
# and rejects bad usage with exit code 2.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"
unset CARAWAY_ADDRESS

# expect_cli <name> <code> <max ms> <regex in stderr> <args...>
expect_cli() {
  local name=$1 code=$2 max_ms=$3 regex=$4
  shift 4
  cli "$name" 20 "$@"
  ((status == code)) || fail "$name: exit $status, expected $code"
  ((elapsed_ms <= max_ms)) || fail "$name: took $elapsed_ms ms"
  grep -Eq -- "$regex" "$work/$name.err" \
    || fail "$name: stderr does not match '$regex'"
  echo "ok: $name (exit $code after $elapsed_ms ms)"
}

pick_port
closed=$free
expect_cli closed_port 1 5000 \
  "^caraway: cannot reach the head at 127\.0\.0\.1:$closed: " \
  --address "127.0.0.1:$closed" status

pick_port
silent=$free
start listener "$tcp" listen "$silent"
listener=$last_pid
wait_for_line listener "$listener" "^listening on 127\.0\.0\.1:$silent$" 10
expect_cli silent_port 1 5000 \
  "^caraway: cannot reach the head at 127\.0\.0\.1:$silent: " \
  --address "127.0.0.1:$silent" --timeout-ms 2000 status
expect_cli silent_port_list 1 5000 "127\.0\.0\.1:$silent" \
  --address "127.0.0.1:$silent" --timeout-ms 2000 list nodes

pick_port
chatty=$free
start chatty_listener "$tcp" listen "$chatty" 4096
chatty_listener=$last_pid
wait_for_line chatty_listener "$chatty_listener" \
  "^listening on 127\.0\.0\.1:$chatty$" 10
for round in 1 2 3; do
  expect_cli "chatty_port_$round" 1 5000 \
    "^caraway: cannot reach the head at 127\.0\.0\.1:$chatty: (the TLS handshake failed: )?it speaks another protocol" \
    --address "127.0.0.1:$chatty" --timeout-ms 2000 status
done

# Where the address comes from: closed ports tell them apart.
pick_port
from_env=$free
pick_port
from_file=$free
printf '# written by the test\naddress = 127.0.0.1:%s\nnum-cpus = 2\n' \
  "$from_file" >"$work/client.ini"
export CARAWAY_ADDRESS=127.0.0.1:$from_env
expect_cli flag_wins 1 5000 "127\.0\.0\.1:$closed: " \
  --address "127.0.0.1:$closed" --config "$work/client.ini" list jobs
expect_cli env_wins 1 5000 "127\.0\.0\.1:$from_env: " \
  --config "$work/client.ini" list actors
unset CARAWAY_ADDRESS
expect_cli file_address 1 5000 "127\.0\.0\.1:$from_file: " \
  --config "$work/client.ini" status
# A head's own config: the head is on its port.
printf 'role = head\nport = %s\nnum-cpus = 2\n' "$from_file" \
  >"$work/head.ini"
expect_cli head_config 1 5000 "127\.0\.0\.1:$from_file: " \
  --config "$work/head.ini" list nodes

# Usage errors.
expect_cli no_command 2 5000 'no command' --address "127.0.0.1:$closed"
expect_cli bad_command 2 5000 "unknown command 'list things'" \
  --address "127.0.0.1:$closed" list things
expect_cli bad_option 2 5000 'no-such-option' --no-such-option status
expect_cli bad_address 2 5000 'invalid address' --address nowhere status
expect_cli bad_timeout 2 5000 'timeout-ms' --timeout-ms 0 status
expect_cli missing_config 2 5000 'config file' --config "$work/none.ini" status
expect_cli bad_format 2 5000 "--format is table or json, not 'xml'" \
  --format xml list nodes
expect_cli bad_limit 2 5000 'limit must be positive' --limit 0 list nodes
expect_cli kill_nothing 2 5000 "unknown command 'kill'" kill
expect_cli help_unknown 2 5000 "no command 'fly'" help fly

# Answers without a cluster.
cli version 10 --version
((status == 0)) && grep -Eqx 'caraway [0-9]+\.[0-9]+\.[0-9]+' "$work/version.out" \
  || fail "--version: exit $status, $(cat "$work/version.out")"
cli help_kill 10 help kill
((status == 0)) && grep -q -- '--name NAME' "$work/help_kill.out" \
  || fail "help kill: exit $status, $(cat "$work/help_kill.out")"
echo "ok: --version and help COMMAND"
echo "PASS"
