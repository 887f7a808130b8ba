#!/bin/bash
# Two instances of examples/app behind one ingress (pv-xconnect --graph,
# Unix sockets on the host, roundrobin, http check every 400 ms, rise 2,
# fall 3): 200 requests split evenly; an instance killed costs at most one
# failed request, the other serves everything, and the stats say it is
# down (how long after is printed beside interval*fall); restarted, it is
# back (printed beside interval*rise); an instance whose /health answers
# 500 leaves the rotation while it still accepts connections; with none
# healthy, clients are closed at once rather than held. The stats page
# (HTML, /status, /metrics parsed by prometheus_client) shows it.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/balance.sh"
need_cmd curl jq
"$PYTHON" -c 'import prometheus_client' 2>/dev/null ||
	skip "needs python3-prometheus-client"

INTER=400 RISE=2 FALL=3
# How long a state change may take before the test gives up on it: a
# hang guard. How long it did take is printed beside its configured bound.
HANG=30000
P=$(free_port)
SP=$(free_port)
S1=$T/s/mr_robot1.sock
S2=$T/s/mr_robot2.sock
CHECK="\"balance\":\"roundrobin\",\"check\":{\"type\":\"http\",\"path\":\"/health\",\"expect\":200,\"interval_ms\":$INTER,\"timeout_ms\":300,\"rise\":$RISE,\"fall\":$FALL}"

start_app app1 "$S1"
start_app app2 "$S2"
graph "$(ingress mr_robot "127.0.0.1:$P" "$S1" _host_ 0 "$CHECK")" \
	"$(ingress mr_robot "127.0.0.1:$P" "$S2" _host_ 0 "$CHECK")"
start_pvx --stats "127.0.0.1:$SP"
wait_for 20 port_open "$SP"
wait_for 20 be_is "$SP" "$S1" up
wait_for 20 be_is "$SP" "$S2" up
wait_for 20 sh -c "[ \$(curl -s http://127.0.0.1:$SP/status | jq '[.frontends[].backends[].last_check.ok] | all') = true ]"

# --- 200 requests: an even split (roundrobin: 100 each, 90..110 allowed)
out=$(hit 200 "http://127.0.0.1:$P/")
n1=$(count app1 "$out") n2=$(count app2 "$out")
echo "split: app1 $n1, app2 $n2, failed $(count FAILED "$out")"
assert_eq "$(count FAILED "$out")" 0 "failed requests with both up"
[ "$n1" -ge 90 ] && [ "$n1" -le 110 ] && [ "$n2" -ge 90 ] && [ "$n2" -le 110 ] ||
	fail "uneven split: app1 $n1, app2 $n2"

# --- app2 killed (its socket file stays: connects are refused)
start=$(now_ms)
kill -9 "$(app_pid app2)"
{ wait "$(app_pid app2)"; } 2>/dev/null || true
(hit 60 "http://127.0.0.1:$P/" >"$T/killed.out") &
hitter=$!
down_ms=$(ms_until "$start" $HANG be_is "$SP" "$S2" down)
wait $hitter
out=$(cat "$T/killed.out")
echo "killed: app2 down after $down_ms ms (bound $((INTER * FALL)) ms); requests: $(echo $out)"
[ "$(count FAILED "$out")" -le 1 ] || fail "more than one failed request: $out"
assert_eq "$(count app2 "$out")" 0 "requests served by the killed app2"
be "$SP" "$S2" .reason | grep -q "check failed: connect" ||
	fail "reason: $(be "$SP" "$S2" .reason)"
out=$(hit 20 "http://127.0.0.1:$P/")
assert_eq "$(count app1 "$out")" 20 "requests to app1 while app2 is down"

# --- app2 back: in rotation within interval*rise
start=$(now_ms)
start_app app2 "$S2"
up_ms=$(ms_until "$start" $HANG be_is "$SP" "$S2" up)
echo "restarted: app2 up after $up_ms ms (bound $((INTER * RISE)) ms)"
out=$(hit 40 "http://127.0.0.1:$P/")
assert_eq "$(count app2 "$out")" 20 "app2's share once back"

# --- app1's /health answers 500: out of rotation, still accepting
start=$(now_ms)
kill -USR1 "$(app_pid app1)"
down_ms=$(ms_until "$start" $HANG be_is "$SP" "$S1" down)
echo "health 500: app1 down after $down_ms ms (bound $((INTER * FALL)) ms)"
be "$SP" "$S1" .reason | grep -q "HTTP 500" ||
	fail "reason: $(be "$SP" "$S1" .reason)"
assert_eq "$(curl -s --unix-socket "$S1" http://app/)" "Hello from app1" \
	"app1 answering directly while its health fails"
out=$(hit 20 "http://127.0.0.1:$P/")
assert_eq "$(count app2 "$out")" 20 "requests to app2 while app1 fails"

# --- none healthy: clients are closed at once, not held (held, curl
# would end at its --max-time, exit 28; a backend tried, it would answer)
kill -USR1 "$(app_pid app2)"
wait_for 30 be_is "$SP" "$S2" down
t0=$(now_ms)
rc=0
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 60 "http://127.0.0.1:$P/") || rc=$?
took=$(($(now_ms) - t0))
echo "no healthy backend: answer $code (curl exit $rc) after $took ms"
assert_eq "$code" 000 "HTTP status with no healthy backend"
[ "$rc" -ne 28 ] || fail "client held until curl gave up, with no healthy backend"
grep -q "link mr_robot: no usable backend" "$T/pvx.log" || fail "closing clients without a backend not logged"
[ "$(status "$SP" | jq -r '.frontends[0].reason')" = "no usable backend" ] ||
	fail "frontend reason: $(status "$SP" | jq -c '.frontends[0]')"

kill -USR2 "$(app_pid app1)" "$(app_pid app2)"
wait_for 30 be_is "$SP" "$S1" up
wait_for 30 be_is "$SP" "$S2" up

# --- the stats page, and the metrics through a real Prometheus parser
html=$(curl -s "http://127.0.0.1:$SP/stats")
for want in '<meta http-equiv="refresh"' "mr_robot1.sock" "mr_robot2.sock" \
	"roundrobin" "OK http HTTP 200"; do
	echo "$html" | grep -qF "$want" || fail "stats page lacks $want"
done
curl -s "http://127.0.0.1:$SP/metrics" >"$T/metrics.txt"
"$PYTHON" - "$T/metrics.txt" "$S1" "$S2" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
s1, s2 = sys.argv[2], sys.argv[3]
m = {}
for fam in text_string_to_metric_families(text):
    for s in fam.samples:
        m[(s.name, s.labels.get("backend", ""))] = s.value
def be(name, sock):
    return m[(name, sock)]
total = be("pvx_backend_sessions_total", s1) + be("pvx_backend_sessions_total", s2)
fe_total = m[("pvx_frontend_sessions_total", "")]
# 200 + 60 + 20 + 40 + 20 + 1 requests, each one session.
assert fe_total == 341, fe_total
assert total >= 340, (total, fe_total)
assert be("pvx_backend_downs_total", s1) == 1, m
assert be("pvx_backend_downs_total", s2) == 2, m
assert be("pvx_backend_up", s1) == 1 and be("pvx_backend_up", s2) == 1, m
assert be("pvx_backend_check_up", s1) == 1, m
assert be("pvx_backend_checks_total", s1) > be("pvx_backend_check_failures_total", s1) > 0, m
assert 0 <= be("pvx_backend_check_duration_seconds", s1) < 0.3, m
assert m[("pvx_frontend_up", "")] == 1, m
print("metrics: %d samples parsed; sessions %d, app2 downs %d" %
      (len(m), fe_total, be("pvx_backend_downs_total", s2)))
PY
pvx_alive
_failed=0
echo PASS
