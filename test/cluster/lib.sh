# shellcheck shell=bash disable=SC2034  # the tests read the globals
# Shared by the cluster tests; sourced, never run on its own:
#
#   source "$(dirname "$0")/lib.sh" <bin dir>
#
# Starts processes in the background with their output in a temporary
# directory, bounds every wait by a deadline and, on exit, stops every
# process it started (TERM, then KILL) whatever happened.

bin_dir=${1:?usage: $0 <directory of caraway-node, caraway, caraway-test-tcp>}
node=$bin_dir/caraway-node
cli=$bin_dir/caraway
tcp=$bin_dir/caraway-test-tcp
# require <executable>...: fails early, and clearly, if one is not built.
require() {
  local exe
  for exe in "$@"; do
    if [[ ! -x $exe ]]; then
      echo "FAIL: $exe is missing: build it first" >&2
      exit 1
    fi
  done
}
require "$cli" "$tcp"

# Daemon options for tests of failures: heartbeats every 200 ms, a peer
# silent for 2 s is gone.
timing=(--heartbeat-interval-ms 200 --heartbeat-timeout-ms 2000)

work=$(mktemp -d -t caraway-cluster.XXXXXX)
# Marks every process this test starts, and their children: the worker
# processes of its nodes must all be gone once the test ends.
export CARAWAY_TEST_RUN=$work
# Nodes keep their session directories (worker logs, the jobs' libraries)
# under the temporary directory: this test's, removed at its end.
export TMPDIR=$work

# CARAWAY_TEST_WORKER_MODE=threads|processes: the daemons run in that mode
# unless the test names one (ctest runs the cluster suite in both);
# `worker_mode` is the mode they run in.
worker_mode=${CARAWAY_TEST_WORKER_MODE:-processes}
if [[ -n ${CARAWAY_TEST_WORKER_MODE:-} ]]; then
  cat >"$work/caraway-node" <<EOF
#!/usr/bin/env bash
for arg; do [[ \$arg == --worker-mode* ]] && exec "$node" "\$@"; done
exec "$node" --worker-mode "$CARAWAY_TEST_WORKER_MODE" "\$@"
EOF
  chmod +x "$work/caraway-node"
  node=$work/caraway-node
fi
# Processes given no TLS files use their user's own, made on first use in
# ~/.caraway/tls: this test's home, so that tests share nothing.
export HOME=$work/home
mkdir -p "$HOME"
# CARAWAY_TEST_INSECURE=1: the cluster runs without TLS. Daemons get
# --insecure-loopback unless the test gives TLS options itself; drivers and
# the caraway tool get CARAWAY_INSECURE_LOOPBACK.
if [[ -n ${CARAWAY_TEST_INSECURE:-} ]]; then
  export CARAWAY_INSECURE_LOOPBACK=true
  cat >"$work/caraway-node-insecure" <<EOF
#!/usr/bin/env bash
for arg; do [[ \$arg == --tls-* || \$arg == --insecure-* ]] && exec "$node" "\$@"; done
exec "$node" --insecure-loopback "\$@"
EOF
  chmod +x "$work/caraway-node-insecure"
  node=$work/caraway-node-insecure
fi
pids=()       # every process started, in order
reaped=" "    # those already waited for: their ids may be reused
used_ports=" "
last_pid=
free=

# Still running (a child that exited stays a zombie until waited for).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# The daemons and worker processes started for this test, directly or not
# (a driver's own head), that still run, one pid per line.
stray_processes() {
  local dir comm
  for dir in /proc/[0-9]*; do
    comm=$(cat "$dir/comm" 2>/dev/null) || continue
    [[ $comm == caraway-worker || $comm == caraway-node ]] || continue
    tr '\0' '\n' <"$dir/environ" 2>/dev/null \
      | grep -qx "CARAWAY_TEST_RUN=$work" && echo "${dir#/proc/}"
  done
  return 0
}

cleanup() {
  local rc=$? pid f deadline strays
  set +e
  trap - EXIT
  for pid in "${pids[@]}"; do
    [[ $reaped == *" $pid "* ]] && continue
    running "$pid" && kill -TERM "$pid" 2>/dev/null
  done
  deadline=$(($(date +%s) + 5))
  for pid in "${pids[@]}"; do
    [[ $reaped == *" $pid "* ]] && continue
    while running "$pid" && (($(date +%s) < deadline)); do
      sleep 0.1
    done
    if running "$pid"; then
      echo "cleanup: process $pid did not stop on TERM, killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  # A worker process whose node is gone exits by itself, within the
  # heartbeat timeout.
  deadline=$(($(date +%s) + 10))
  while strays=$(stray_processes) && [[ -n $strays ]] \
    && (($(date +%s) < deadline)); do
    sleep 0.1
  done
  if [[ -n $strays ]]; then
    echo "FAIL: processes outlived the test:" $strays >&2
    kill -KILL $strays 2>/dev/null
    ((rc != 0)) || rc=1
  fi
  if ((rc != 0)); then
    for f in "$work"/*.out "$work"/*.err; do
      [[ -s $f ]] || continue
      echo "--- $(basename "$f") (last 40 lines)"
      tail -n 40 "$f"
    done
    for f in "$work"/caraway-session-*/logs/*; do
      [[ -s $f ]] || continue
      echo "--- ${f#"$work"/} (last 20 lines)"
      tail -n 20 "$f"
    done
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

now_ms() {
  date +%s%3N
}

# Sets `free` to a loopback port that nothing listens on, starting from a
# random base so that tests running side by side rarely collide. The ports
# stay below Linux's default ephemeral range (32768 and up), where outgoing
# connections and workers' own ports could take them meanwhile.
pick_port() {
  local port=$((20000 + RANDOM % 12000)) tries
  for ((tries = 0; tries < 200; ++tries)); do
    port=$((port >= 32000 ? 20000 : port + 1))
    [[ $used_ports == *" $port "* ]] && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used_ports+="$port "
      free=$port
      return 0
    fi
  done
  fail "no free port found"
}

# start <name> <command...>: runs it in the background, stdout and stderr to
# $work/<name>.out and .err; sets `last_pid`. SIGINT is reset to its default
# because a non-interactive shell starts background jobs with it ignored.
start() {
  local name=$1
  shift
  env --default-signal=INT "$@" >"$work/$name.out" 2>"$work/$name.err" &
  last_pid=$!
  pids+=("$last_pid")
}

# wait_for_line <name> <pid> <regex> <seconds>: until <name>.out has a line
# matching <regex>; fails if the process exits or time runs out.
wait_for_line() {
  local name=$1 pid=$2 regex=$3 deadline=$(($(now_ms) + $4 * 1000))
  until grep -Eq -- "$regex" "$work/$name.out" 2>/dev/null; do
    running "$pid" || fail "$name exited before printing '$regex'"
    (($(now_ms) < deadline)) || fail "$name printed no '$regex' in $4 s"
    sleep 0.1
  done
}

# eventually <seconds> <what> <command...>: runs the command every 0.1 s
# until it succeeds; fails saying <what> if it has not within <seconds>.
eventually() {
  local deadline=$(($(now_ms) + $1 * 1000)) what=$2
  shift 2
  until "$@"; do
    (($(now_ms) < deadline)) || fail "$what"
    sleep 0.1
  done
}

# wait_listening <name> <pid>: waits for the daemon's start line and checks
# its form.
wait_listening() {
  local regex='^caraway-node (head|worker) listening on 127\.0\.0\.1:[0-9]+'
  regex+=' node [0-9a-f]+( metrics 127\.0\.0\.1:[0-9]+)?'
  regex+='( dashboard 127\.0\.0\.1:[0-9]+)?$'
  wait_for_line "$1" "$2" "$regex" 30
}

# wait_exit <pid> <seconds>: waits for the process to end; sets `status` to
# its exit code, fails if it is still running at the deadline.
wait_exit() {
  local pid=$1 deadline=$(($(now_ms) + $2 * 1000))
  while running "$pid"; do
    (($(now_ms) < deadline)) || fail "process $pid still runs after $2 s"
    sleep 0.1
  done
  status=0
  wait "$pid" || status=$?
  reaped+="$pid "
}

# expect_exit <name> <pid> <seconds> <code> [<regex in stderr>]
expect_exit() {
  local name=$1 pid=$2 seconds=$3 code=$4 regex=${5:-}
  wait_exit "$pid" "$seconds"
  if ((status != code)); then
    fail "$name exited with $status, expected $code"
  fi
  if [[ -n $regex ]] && ! grep -Eq -- "$regex" "$work/$name.err"; then
    fail "$name: stderr does not match '$regex'"
  fi
  echo "ok: $name exited with $code"
}

# run <name> <seconds> <command...>: runs it in the foreground but bounded;
# output in $work/<name>.out and .err, exit code in `status`, running time
# in `elapsed_ms`.
run() {
  local name=$1 seconds=$2 begin
  shift 2
  begin=$(now_ms)
  start "$name" "$@"
  wait_exit "$last_pid" "$seconds"
  elapsed_ms=$(($(now_ms) - begin))
}

# http_get <seconds> <port> <path>: the body of GET http://127.0.0.1:<port><path>
# on stdout; fails unless the answer is 200.
http_get() {
  local seconds=$1 port=$2 path=$3 reply
  reply=$(timeout "$seconds" bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3
    cat <&3' "$port" "$path") || return 1
  [[ $reply == "HTTP/1."?" 200 "* ]] || return 1
  # The body follows the first empty line.
  printf '%s\n' "$reply" | tr -d '\r' | sed '1,/^$/d'
}

# cli <name> <seconds> <args...>: runs the caraway tool that way.
cli() {
  local name=$1 seconds=$2
  shift 2
  run "$name" "$seconds" "$cli" "$@"
}

# start_cluster <task library>: a head (2 CPUs) and two workers (1 CPU each,
# custom resources ssd:2 and tpu:1), all loading the library (none if it is
# empty) and serving metrics on a port of their choice (`metrics_port
# <name>`), the tpu worker with the options in `tpu_options` too; sets
# `address`, `head`, `head_id`, `ssd_id` and `tpu_id`.
tpu_options=()
start_cluster() {
  local libs=()
  [[ -z $1 ]] || libs=(--libraries "$1")
  pick_port
  address=127.0.0.1:$free
  start head "$node" --port "$free" --num-cpus 2 --metrics-port 0 \
    --dashboard-port 0 "${libs[@]}"
  head=$last_pid
  wait_listening head "$head"
  start worker_ssd "$node" --role worker --head-address "$address" \
    --num-cpus 1 --resources ssd:2 --metrics-port 0 "${libs[@]}"
  wait_listening worker_ssd "$last_pid"
  start worker_tpu "$node" --role worker --head-address "$address" \
    --num-cpus 1 --resources tpu:1 --metrics-port 0 "${libs[@]}" \
    "${tpu_options[@]}"
  wait_listening worker_tpu "$last_pid"
  head_id=$(node_id_of head)
  ssd_id=$(node_id_of worker_ssd)
  tpu_id=$(node_id_of worker_tpu)
}

# metrics_port <name>: the metrics port in the daemon's start line.
metrics_port() {
  sed -n 's/^caraway-node .* metrics 127\.0\.0\.1:\([0-9]*\)\( .*\)\?$/\1/p' \
    "$work/$1.out"
}

# dashboard_port <name>: the dashboard's port in the head's start line.
dashboard_port() {
  sed -n 's/^caraway-node .* dashboard 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$work/$1.out"
}

# wait_alive_nodes <n>: until the gcs lists n alive nodes (workers register
# asynchronously).
wait_alive_nodes() {
  local deadline=$(($(now_ms) + 30000))
  until cli nodes 15 --address "$address" list nodes \
    && (($(grep -c ' alive ' "$work/nodes.out" || true) == $1)); do
    (($(now_ms) < deadline)) || fail "no $1 alive nodes after 30 s"
    sleep 0.1
  done
}

# run_app <name> <seconds> <args...>: runs the driver $app against the
# cluster at $address; fails unless it exits with 0.
run_app() { # <name> <seconds> <args...>
  local name=$1 seconds=$2
  shift 2
  run "$name" "$seconds" "$app" "$@" --caraway-address "$address"
  ((status == 0)) || fail "$name exited with $status"
}

# start_app <name> <args...>: starts the driver $app against the cluster at
# $address in the background; sets `last_pid`.
start_app() {
  local name=$1
  shift
  start "$name" "$app" "$@" --caraway-address "$address"
}

# finish_app <name> <pid> <seconds>: waits for a driver started with
# start_app; fails unless it exits with 0.
finish_app() {
  wait_exit "$2" "$3"
  ((status == 0)) || fail "$1 exited with $status"
}

# expect_where <name>: the driver's `where` output shows the ssd task on the
# ssd worker and the tpu task on the tpu worker.
expect_where() {
  grep -qx "ssd-task $ssd_id" "$work/$1.out" \
    || fail "the ssd task ran elsewhere: $(cat "$work/$1.out")"
  grep -qx "tpu-task $tpu_id" "$work/$1.out" \
    || fail "the tpu task ran elsewhere: $(cat "$work/$1.out")"
}

# node_id_of <name>: the node id a daemon printed when it started.
node_id_of() {
  sed -n 's/.* node \([0-9a-f]*\)\( .*\)\?$/\1/p' "$work/$1.out"
}
