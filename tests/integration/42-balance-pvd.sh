#!/bin/bash
# The load-balancing example (examples/balance/state.json) under pvd with
# real containers: app1 and app2, each on /var/run/mr_robot/mr_robotN.sock
# inside its own container (no shared socket volume), behind one ingress,
# roundrobin, http check every 1000 ms, rise 2, fall 3. Only the app's path
# (build/app) and the two ports (free ones, not 9999/8404) are changed.
#   - 200 requests split evenly
#   - app1's /health answers 500: out of rotation while it still accepts
#     connections inside its container; back in once it answers 200
#   - app1 killed: at most one failed request, app2 serves the rest; the
#     restarted container is back in rotation
#   - the stats page on the "xconnect.stats" address, /xconnect-status and
#     /metrics (prometheus_client parser) on pv-ctrl
# How long each change took is printed beside interval*fall or
# interval*rise; only a hang guard bounds it.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/balance.sh"
need_root
need_cmd curl jq nsenter lxc-checkconfig
"$PYTHON" -c 'import prometheus_client' 2>/dev/null ||
	skip "needs python3-prometheus-client"

APP=$(for_containers "$APP")
INTER=1000 RISE=2 FALL=3 HANG=60000
P=$(free_port)
SP=$(free_port)
SOCK=$T/ctrl/pv-ctrl
S1=/var/run/mr_robot/mr_robot1.sock
S2=/var/run/mr_robot/mr_robot2.sock
jq --arg app "$APP" --arg ext "127.0.0.1:$P" --arg stats "127.0.0.1:$SP" '
	.["device.json"].ingress[0].external = $ext |
	.["device.json"].xconnect.stats = $stats |
	.["app1/run.json"].exec[0] = $app | .["app2/run.json"].exec[0] = $app' \
	"$TOP/examples/balance/state.json" >"$T/state.json"
# Everything else is the example's own.
assert_eq "$(jq -c '.["device.json"].ingress[0].check' "$T/state.json")" \
	"{\"type\":\"http\",\"path\":\"/health\",\"expect\":200,\"interval_ms\":$INTER,\"timeout_ms\":1000,\"rise\":$RISE,\"fall\":$FALL}" \
	"the example's check"

start_pvd "$T/pvd.log" "$T/state.json" "$T/run"
cpid() { ctrl "$SOCK" /containers | jq -r ".[] | select(.name==\"$1\") | .pid"; }
running() { [ "$(cpid "$1")" -gt 0 ] 2>/dev/null; }
wait_for 60 test -S "$SOCK"
wait_for 60 running app1
wait_for 60 running app2
wait_for 60 port_open "$SP"
wait_for 60 be_is "$SP" "$S1" up
wait_for 60 be_is "$SP" "$S2" up
wait_for 60 sh -c "curl -s --max-time 1 http://127.0.0.1:$P/ | grep -q Hello"
# pv-xconnect was started with the stats address from device.json.
pvx=$(ctrl "$SOCK" /daemons | jq -r '.[] | select(.name=="pv-xconnect") | .pid')
tr '\0' ' ' </proc/"$pvx"/cmdline | grep -q -- "--stats 127.0.0.1:$SP" ||
	fail "pv-xconnect command line: $(tr '\0' ' ' </proc/"$pvx"/cmdline)"
# Each socket exists only inside its own container.
[ ! -e "$S1" ] && [ ! -e "$S2" ] || fail "an app socket is visible on the host"
nsenter -t "$(cpid app1)" -m test -S "$S1" || fail "$S1 not in app1's container"
nsenter -t "$(cpid app1)" -m test ! -e "$S2" || fail "$S2 visible in app1's container"

# --- 200 requests: an even split
out=$(hit 200 "http://127.0.0.1:$P/")
n1=$(count app1 "$out") n2=$(count app2 "$out")
echo "split: app1 $n1, app2 $n2, failed $(count FAILED "$out")"
assert_eq "$(count FAILED "$out")" 0 "failed requests with both up"
[ "$n1" -ge 90 ] && [ "$n1" -le 110 ] && [ "$n2" -ge 90 ] && [ "$n2" -le 110 ] ||
	fail "uneven split: app1 $n1, app2 $n2"

# --- app1's /health answers 500 (SIGUSR1): out of rotation, still serving
start=$(now_ms)
kill -USR1 "$(cpid app1)"
down_ms=$(ms_until "$start" $HANG be_is "$SP" "$S1" down)
echo "health 500: app1 down after $down_ms ms (bound $((INTER * FALL)) ms)"
be "$SP" "$S1" .reason | grep -q "HTTP 500" || fail "reason: $(be "$SP" "$S1" .reason)"
assert_eq "$(nsenter -t "$(cpid app1)" -m curl -s --max-time 10 --unix-socket "$S1" http://app/)" \
	"Hello from app1" "app1 answering inside its container while its health fails"
out=$(hit 20 "http://127.0.0.1:$P/")
assert_eq "$(count app2 "$out")" 20 "requests to app2 while app1 fails"
start=$(now_ms)
kill -USR2 "$(cpid app1)"
up_ms=$(ms_until "$start" $HANG be_is "$SP" "$S1" up)
echo "health 200 again: app1 up after $up_ms ms (bound $((INTER * RISE)) ms)"

# --- app1 killed while requests run: its container ends, pvd starts it
# again
old=$(cpid app1)
fe_total() { status "$SP" | jq '.frontends[0].sessions_total'; }
fe_total_above() { [ "$(fe_total)" -gt "$1" ]; }
before=$(fe_total)
(hit 40 "http://127.0.0.1:$P/" >"$T/killed.out") &
hitter=$!
wait_for 20 fe_total_above "$before"
kill -9 "$old"
wait_for 20 gone "$old"
wait_for 30 be_is "$SP" "$S1" down
echo "killed: app1 down: $(be "$SP" "$S1" .reason)"
wait $hitter
out=$(cat "$T/killed.out")
echo "killed: requests: $(echo $out)"
[ "$(count FAILED "$out")" -le 1 ] || fail "more than one failed request: $out"
# pvd starts app1 again after its back-off and its checks may pass before
# these ten are done: only requests made while it is still down must all
# go to app2 (down before and after means down throughout).
out=$(hit 10 "http://127.0.0.1:$P/")
assert_eq "$(count FAILED "$out")" 0 "failed requests while app1 is down"
if be_is "$SP" "$S1" down; then
	assert_eq "$(count app2 "$out")" 10 "requests to app2 while app1 is down"
else
	echo "app1 back during the requests: $(count app1 "$out") of 10 on it"
	[ "$(count app2 "$out")" -ge 1 ] || fail "no request to app2: $out"
fi
wait_for 60 sh -c "[ \"\$(curl -s --max-time 2 --unix-socket $SOCK http://localhost/containers | jq -r '.[] | select(.name==\"app1\") | .pid')\" -gt 0 ] && [ \"\$(curl -s --max-time 2 --unix-socket $SOCK http://localhost/containers | jq -r '.[] | select(.name==\"app1\") | .pid')\" != $old ]"
start=$(now_ms)
# The graph shows the new pid at pv-xconnect's next poll (every 1000 ms).
up_ms=$(ms_until "$start" $HANG be_is "$SP" "$S1" up)
echo "restarted: app1 up $up_ms ms after its container ran again (bound $((INTER * RISE)) ms + one graph poll)"
out=$(hit 20 "http://127.0.0.1:$P/")
assert_eq "$(count app1 "$out") $(count app2 "$out")" "10 10" "split once app1 is back"

# --- the stats page, /xconnect-status and /metrics on pv-ctrl
html=$(curl -s "http://127.0.0.1:$SP/stats")
for want in '<meta http-equiv="refresh"' ">app1<" ">app2<" "$S1" "OK http HTTP 200"; do
	echo "$html" | grep -qF "$want" || fail "stats page lacks $want"
done
# The reports on pv-ctrl (status, then metrics, after each poll) once they
# count every session the stats page does.
reported() {
	_n=$(fe_total)
	[ "$(ctrl "$SOCK" /xconnect-status | jq '.frontends[0].sessions_total')" = "$_n" ] &&
		ctrl "$SOCK" /metrics | awk -v n="$_n" '$1 ~ /^pvx_frontend_sessions_total\{/ && $2 == n { f = 1 }
			END { exit !f }'
}
wait_for 30 reported
st=$(ctrl "$SOCK" /xconnect-status)
assert_eq "$(echo "$st" | jq -r '.frontends[] | select(.name=="mr_robot") | [.backends[] | .name + ":" + .health] | join(",")')" \
	"app1:up,app2:up" "backends in /xconnect-status"
assert_eq "$(echo "$st" | jq -r '.frontends[0].backends[0].last_check.detail')" "HTTP 200" "last check in /xconnect-status"
ctrl "$SOCK" /metrics >"$T/metrics.txt"
"$PYTHON" - "$T/metrics.txt" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
m = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        m[(s.name, s.labels.get("provider", ""))] = s.value
assert m[("pvx_backend_up", "app1")] == 1 and m[("pvx_backend_up", "app2")] == 1, m
assert m[("pvx_backend_downs_total", "app1")] == 2, m   # health 500, killed
assert m[("pvx_backend_downs_total", "app2")] == 0, m
total = m[("pvx_frontend_sessions_total", "")]
assert total >= 290, total   # 200 + 20 + 40 + 10 + 20, and the first probes
print("metrics via pv-ctrl: %d samples; %d sessions; app1 downs %d" %
      (len(m), total, m[("pvx_backend_downs_total", "app1")]))
PY

kill -TERM $PID
wait_for 30 gone $PID
wait $PID && rc=0 || rc=$?
assert_eq "$rc" 0 "pvd exit status"
port_open "$SP" && fail "stats page still served after pvd stopped"
_failed=0
echo PASS
