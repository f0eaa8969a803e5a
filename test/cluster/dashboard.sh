#!/usr/bin/env bash
# cluster.dashboard: while a job runs, the head's web dashboard, opened in
# headless Chromium, shows the cluster's three nodes, the job's named actor
# and its failed task's error, and polls again on its own; its JSON API
# answers as `caraway list --format json` does, refuses what it does not
# know, and leaves out a frozen owner's objects rather than fail. Keeps a screenshot in $CARAWAY_TEST_ARTIFACTS (default: the
# current directory's test-artifacts/).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh" "$1"
app=$2
library=$3
require "$node" "$app"
browser=${CARAWAY_TEST_BROWSER:-chromium}
command -v "$browser" >/dev/null \
  || fail "no $browser to open the dashboard with (scripts/setup.sh installs it)"
artifacts=${CARAWAY_TEST_ARTIFACTS:-$PWD/test-artifacts}
mkdir -p "$artifacts"

start_cluster "$library"
wait_alive_nodes 3
port=$(dashboard_port head)
[[ -n $port ]] || fail "no dashboard port in: $(cat "$work/head.out")"

start_app dash dashboard "$work/dash-done"
dash_pid=$last_pid
wait_for_line dash "$dash_pid" '^ready ' 60
# The driver's task events reach the head in batches: wait for the failure.
failure_listed() {
  cli failed 15 --address "$address" list tasks --filter state=failed \
    && grep -q "the dashboard shows this" "$work/failed.out"
}
eventually 20 "the failed task is not in the task table" failure_listed

# The API's JSON is the tool's.
for what in actors jobs; do
  cli "cli_$what" 15 --address "$address" list "$what" --format json
  http_get 5 "$port" "/api/$what" >"$work/api_$what.json" \
    || fail "GET /api/$what failed"
  cmp -s "$work/cli_$what.out" "$work/api_$what.json" \
    || fail "/api/$what differs from the tool's: $(diff "$work/cli_$what.out" "$work/api_$what.json")"
done
http_get 5 "$port" "/api/tasks?filter=state%3Dfailed" >"$work/api_failed.json" \
  && grep -q '"error": ".*the dashboard shows this' "$work/api_failed.json" \
  || fail "/api/tasks?filter=state=failed: $(cat "$work/api_failed.json")"
for path in /api/nothing "/api/actors?filter=colour%3Dred" "/api/actors?limit=0"; do
  http_get 5 "$port" "$path" >/dev/null && fail "$path answered 200"
done
echo "ok: the dashboard's API answers as caraway list --format json does"
# raw_get <seconds> <path> <file>: the whole answer, headers included.
raw_get() {
  timeout "$1" bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3
    cat <&3' "$port" "$2" >"$3"
}
# A frozen owner costs its objects, not the answer: the head leaves the
# driver out after 2 s and says so.
raw_get 5 /api/objects "$work/objects_live.http" || fail "GET /api/objects failed"
grep -q "1.0 MiB" "$work/objects_live.http" \
  || fail "no 1 MiB object: $(cat "$work/objects_live.http")"
kill -STOP "$dash_pid"
begin=$(now_ms)
got=0
raw_get 10 /api/objects "$work/objects_frozen.http" || got=$?
kill -CONT "$dash_pid"
((got == 0)) || fail "GET /api/objects with a frozen owner failed"
grep -q "^HTTP/1.[01] 200" "$work/objects_frozen.http" \
  && grep -qi "^X-Silent-Owners: [1-9]" "$work/objects_frozen.http" \
  && ! grep -q "1.0 MiB" "$work/objects_frozen.http" \
  || fail "a frozen owner's objects: $(cat "$work/objects_frozen.http")"
echo "ok: a frozen owner is left out of /api/objects after $(($(now_ms) - begin)) ms"

# The page may load nothing but its own files (and works so, below).
raw_get 5 / "$work/page.http" || fail "GET / failed"
grep -qi "^Content-Security-Policy: default-src 'self'" "$work/page.http" \
  && grep -qi "^X-Content-Type-Options: nosniff" "$work/page.http" \
  || fail "the page lacks its security headers: $(sed '/^\r$/q' "$work/page.http")"

# open <name> <chromium options...>: loads the page, bounded, with virtual
# time so that its polls run without waiting for the wall clock.
open() {
  local name=$1
  shift
  timeout 90 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
    --user-data-dir="$work/chromium-$name" --window-size=1280,1700 \
    --virtual-time-budget=8000 "$@" "http://127.0.0.1:$port/" \
    >"$work/$name.out" 2>"$work/$name.err" \
    || fail "$browser failed: $(tail -5 "$work/$name.err")"
}
open dom --dump-dom
# table <id>: the text of that table in the page, tags left in.
table() {
  tr -d '\n' <"$work/dom.out" | grep -o "<table id=\"$1\">.*" | sed 's#</table>.*##'
}
grep -q '<b id="node-count">3</b>' "$work/dom.out" \
  || fail "the page shows no 3 nodes: $(grep -o '<b id="node-count">[^<]*' "$work/dom.out")"
table nodes | grep -q "${tpu_id:0:8}" || fail "no tpu node in: $(table nodes)"
table actors | grep -q '<td>shared/dashboard_tally</td>' \
  || fail "no named actor in: $(table actors)"
table failures | grep -q '<td class="task-error">.*the dashboard shows this' \
  || fail "no failed task's error in: $(table failures)"
table task-summary | grep -q '<td>produce</td>' \
  || fail "no produce tasks in: $(table task-summary)"
table objects | grep -q '<td>1.0 MiB</td>' \
  || fail "no 1 MiB object in: $(table objects)"
# The timeline: a bar per task that ran (two produce, one failed).
bars=$(tr -d '\n' <"$work/dom.out" | grep -o '<rect [^>]*class="[A-Z]*"' | wc -l)
failed_bars=$(tr -d '\n' <"$work/dom.out" | grep -o '<rect [^>]*class="FAILED"' | wc -l)
((bars == 3 && failed_bars == 1)) \
  || fail "the timeline has $bars bars, $failed_bars failed: $(tr -d '\n' <"$work/dom.out" | grep -o '<div id="timeline">.*' | head -c 2000)"
grep -q '<div id="error" class="error" hidden="">' "$work/dom.out" \
  || fail "the page shows an error: $(grep -o '<div id="error"[^/]*' "$work/dom.out")"
refreshed=$(grep -o 'data-refreshed="[0-9]*"' "$work/dom.out" | grep -o '[0-9]*')
((${refreshed:-0} >= 2)) \
  || fail "the page did not poll again (refreshed ${refreshed:-0} times)"
echo "ok: the page shows 3 nodes, the named actor, the failed task's error and the timeline, and polls"

open shot --hide-scrollbars --screenshot="$artifacts/dashboard.png"
[[ $(head -c 8 "$artifacts/dashboard.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] \
  || fail "no PNG screenshot at $artifacts/dashboard.png"
echo "ok: screenshot in $artifacts/dashboard.png"

touch "$work/dash-done"
finish_app dash "$dash_pid" 60
echo "PASS"
