#!/bin/bash
# The design's acceptance test: ingress to an nginx container on the
# host's ports 80 and 8080, with the shipped example state. pvd runs nginx
# in an LXC container on pool 10.0.4.0/24 (bridge pvbr0); the graph shows
# "10.0.4.2:80" for nginx-http, and the welcome page is served through
# pv-xconnect on port 80 (TCP backend) and 8080 (nginx's Unix socket
# inside the container).
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd nginx nc jq wget curl lxc-checkconfig

CTRL=/run/pantavisor/pv/pv-ctrl
STATE=$TOP/examples/ingress-nginx/state.json
for port in 80 8080; do
	if ss -Htln "sport = :$port" | grep -q .; then
		skip "port $port is in use on this host"
	fi
done
ip link show pvbr0 >/dev/null 2>&1 && skip "bridge pvbr0 already exists"

"$PVD" --state "$STATE" --run-dir "$T/run" >"$T/pvd.log" 2>&1 &
pvd_pid=$!
on_cleanup "terminate $pvd_pid"

graph_socket() {
	printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U "$CTRL" | tail -1 |
		jq -r '.[] | select(.name=="nginx-http") | .socket'
}
wait_for 60 test -S "$CTRL"
wait_for 60 sh -c "[ \"\$(printf 'GET /xconnect-graph HTTP/1.0\r\n\r\n' | nc -U $CTRL | tail -1 | jq -r '.[] | select(.name==\"nginx-http\") | .socket')\" = 10.0.4.2:80 ]"
assert_eq "$(graph_socket)" "10.0.4.2:80" "graph socket of nginx-http"

page() { wget -q -T 10 -O - "$1" | head -5; }
wait_for 60 sh -c "wget -q -T 2 -O - http://127.0.0.1:80/ | grep -q 'Welcome to nginx!'"
page http://127.0.0.1:80/ | grep -q 'Welcome to nginx!' ||
	fail "port 80 does not serve the welcome page"
wait_for 60 sh -c "curl -sf --max-time 2 http://127.0.0.1:8080/ | grep -q 'Welcome to nginx!'"

# Clean shutdown: exit 0 and nothing left behind, pvd's own pv-xconnect
# included (other pv-xconnect processes on the machine are not ours).
pvx_pid=$(ctrl "$CTRL" /daemons | jq -r '.[] | select(.name=="pv-xconnect") | .pid')
[ "${pvx_pid:-0}" -gt 0 ] || fail "pv-xconnect is not running under pvd"
kill -TERM $pvd_pid
wait_for 30 gone $pvd_pid
wait $pvd_pid && rc=0 || rc=$?
assert_eq "$rc" 0 "pvd exit status after SIGTERM"
ip link show pvbr0 >/dev/null 2>&1 && fail "bridge pvbr0 left behind"
[ -e "$CTRL" ] && fail "pv-ctrl socket left behind"
kill -0 "$pvx_pid" 2>/dev/null && fail "pv-xconnect ($pvx_pid) left running"
curl -s --max-time 2 http://127.0.0.1:80/ >/dev/null && fail "port 80 still served"
exit 0
