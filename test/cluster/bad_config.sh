#!/usr/bin/env bash
# cluster.bad_config: a daemon refuses a bad configuration with exit code 2
# and a message naming the option; it fails with exit code 1 when its port is
# taken or when its head cannot be reached.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$@"
require "$node"

# Every case gets a port of its own: should the daemon wrongly start, it
# must not take a port that matters.
bad() {
  local name=$1 regex=$2
  shift 2
  pick_port
  start "$name" "$node" --role head --host 127.0.0.1 --port "$free" "$@"
  expect_exit "$name" "$last_pid" 15 2 "$regex"
}

bad unknown_option 'no-such-option' --no-such-option 1
bad malformed_value 'num-cpus' --num-cpus many
bad negative_resource 'resources' --resources ssd:-1
printf 'num-cpus = 1\nno-such-key = 3\n' >"$work/unknown_key.ini"
bad unknown_key 'no-such-key' --config "$work/unknown_key.ini"
bad bad_data_port 'data-port' --data-port 70000
bad spread_above_one "invalid option 'spread-threshold'" --spread-threshold 1.5
bad zero_view_period "invalid option 'view-period-ms'" --view-period-ms 0
bad bad_metrics_port "invalid option 'metrics-port'" --metrics-port 70000
bad bad_dashboard_port "invalid option 'dashboard-port'" --dashboard-port -2
bad small_message_limit "invalid option 'max-message-bytes'.*inline-threshold" \
  --max-message-bytes 1000
# Boost fills %placeholders% in its messages until none is left: a value
# that holds one used to hang the daemon instead of failing it.
bad placeholder_value "option '--num-cpus' has an invalid value" \
  --num-cpus %value%
printf 'num-cpus = %%canonical_option%%\n' >"$work/placeholder.ini"
bad placeholder_in_file "option 'num-cpus' has an invalid value" \
  --config "$work/placeholder.ini"
bad zero_shutdown_timeout "invalid option 'shutdown-timeout-ms'" \
  --shutdown-timeout-ms 0

# Port in use: something that is not caraway already listens there.
pick_port
taken=$free
start listener "$tcp" listen "$taken"
listener=$last_pid
wait_for_line listener "$listener" "^listening on 127\.0\.0\.1:$taken$" 10
start port_in_use "$node" --role head --host 127.0.0.1 --port "$taken"
expect_exit port_in_use "$last_pid" 15 1 "$taken"
pick_port
start data_port_in_use "$node" --role head --host 127.0.0.1 --port "$free" \
  --data-port "$taken"
expect_exit data_port_in_use "$last_pid" 15 1 "object data on 127\.0\.0\.1:$taken"
pick_port
start dashboard_in_use "$node" --role head --host 127.0.0.1 --port "$free" \
  --dashboard-port "$taken"
expect_exit dashboard_in_use "$last_pid" 15 1 \
  "cannot serve the dashboard on 127\.0\.0\.1:$taken"
running "$listener" || fail "the listener died"

# The dashboard's default port taken (here, or by whatever holds it): the
# head serves without a dashboard and says so.
start default_listener "$tcp" listen 8265
pick_port
start no_dashboard "$node" --role head --host 127.0.0.1 --port "$free"
wait_listening no_dashboard "$last_pid"
no_dashboard=$last_pid
grep -q " dashboard " "$work/no_dashboard.out" \
  && fail "a dashboard on a taken port: $(cat "$work/no_dashboard.out")"
grep -q "cannot serve the dashboard on 127\.0\.0\.1:8265 (in use?); serving without a dashboard" \
  "$work/no_dashboard.err" \
  || fail "no word of the missing dashboard: $(cat "$work/no_dashboard.err")"
kill -TERM "$no_dashboard"
wait_exit "$no_dashboard" 15
echo "ok: the head serves without a dashboard when its default port is taken"

# A worker whose head is not there gives up after --connect-timeout-ms: on
# a closed port, and on the port above, which accepts but never answers.
pick_port
closed=$free
for head in "$closed" "$taken"; do
  begin=$(now_ms)
  start "no_head_$head" "$node" --role worker --host 127.0.0.1 \
    --head-address "127.0.0.1:$head" --connect-timeout-ms 2000
  expect_exit "no_head_$head" "$last_pid" 7 1 "127\.0\.0\.1:$head"
  echo "ok: worker gave up on 127.0.0.1:$head after $(($(now_ms) - begin)) ms"
done
echo "PASS"
