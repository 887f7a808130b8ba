#!/bin/bash
# The graph from pv-ctrl: a fake pv-ctrl answers with a graph of more than
# 2 MiB written in 1000-byte pieces; pv-xconnect polls it, applies changes
# within its interval, keeps its links while pv-ctrl is away (said once),
# and picks up again when it is back.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc jq
"$PYTHON" -c 'import prometheus_client.parser' 2>/dev/null ||
	skip "needs python3-prometheus-client"

ea=$(free_port)
eb=$(free_port)
port=$(free_port)
bg echoA $PVXTOOL echo "127.0.0.1:$ea" --tag A
bg echoB $PVXTOOL echo "127.0.0.1:$eb" --tag B
wait_for 20 port_open "$ea"
wait_for 20 port_open "$eb"
tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }

# A large answer: the link at the end of 2 MiB of padding.
serve_graph() {
	"$PYTHON" -c '
import sys
link = sys.argv[1]
sys.stdout.write("[" + " " * (2 << 20) + link + "]")
' "$1" >"$T/served.json.tmp"
	mv "$T/served.json.tmp" "$T/served.json"
}
serve_graph "$(ingress web "127.0.0.1:$port" "127.0.0.1:$ea" nginx $$)"
start_ctrl() {
	$PVXTOOL ctrl "$T/ctrl.sock" --file "$T/served.json" --piece 1000 \
		--store "$T/reports" >"$T/ctrl.log" 2>&1 &
	ctrl_pid=$!
	on_cleanup "kill $ctrl_pid"
	wait_for 20 test -S "$T/ctrl.sock"
}
mkdir -p "$T/reports"
start_ctrl

"$PVX" --ctrl "$T/ctrl.sock" --interval 200 >"$T/pvx.log" 2>&1 &
PVX_PID=$!
on_cleanup "kill $PVX_PID"
wait_for 30 port_open "$port"
assert_eq "$(tag "$port")" A "answer with the first graph"

# A change is applied at the next polls.
serve_graph "$(ingress web "127.0.0.1:$port" "127.0.0.1:$eb" nginx $$)"
wait_for 30 sh -c "[ \"\$($PVXTOOL tag 127.0.0.1:$port 2>/dev/null)\" = B ]"

# Figures are reported to pv-ctrl after each poll: JSON and Prometheus.
$PVXTOOL stream "127.0.0.1:$port" --mb 1 --skip-tag >/dev/null
status=$T/reports/xconnect-status
# The reports that count the stream (status, then metrics, at each poll).
stream_reported() {
	[ "$(jq -r '.frontends[0].bytes_in' "$status")" -ge 1048576 ] &&
		awk '$1 ~ /^pvx_frontend_bytes_in_total\{/ && $2 >= 1048576 { f = 1 }
			END { exit !f }' "$T/reports/metrics"
}
wait_for 30 stream_reported
assert_eq "$(jq -r '.frontends[0].name' "$status")" web "status: frontend name"
assert_eq "$(jq -r '.frontends[0].backends[0].health' "$status")" up "status: backend health"
[ "$(jq -r '.frontends[0].sessions_total' "$status")" -ge 3 ] ||
	fail "status: sessions_total $(jq -r '.frontends[0].sessions_total' "$status")"
"$PYTHON" - "$T/reports/metrics" <<'PY' || fail "metrics do not parse: $(head -20 "$T/reports/metrics")"
import sys
from prometheus_client.parser import text_string_to_metric_families
samples = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        samples[(s.name, s.labels.get("frontend"))] = s.value
assert samples[("pvx_frontend_up", "web")] == 1, samples
assert samples[("pvx_backend_up", "web")] == 1, samples
assert samples[("pvx_frontend_bytes_in_total", "web")] >= 1048576, samples
print("metrics: %d samples parsed" % len(samples))
PY

# pv-ctrl goes away: the link keeps serving, the failure is said once.
kill "$ctrl_pid"
wait "$ctrl_pid" 2>/dev/null || true
rm -f "$T/ctrl.sock"
wait_for 30 grep -q "graph from $T/ctrl.sock: .*retrying" "$T/pvx.log"
# Polls go on every 200 ms: a second in which none may say it again.
sleep 1
assert_eq "$(tag "$port")" B "answer while pv-ctrl is away"
assert_eq "$(grep -c "graph from $T/ctrl.sock: .*retrying" "$T/pvx.log")" 1 "lines about the missing pv-ctrl"

# Back, with the link gone: the port closes.
serve_graph ""
start_ctrl
wait_for 20 grep -q "graph from $T/ctrl.sock: fetched again" "$T/pvx.log"
wait_for 20 sh -c "! nc -z 127.0.0.1 $port"
pvx_alive
echo "PASS"
