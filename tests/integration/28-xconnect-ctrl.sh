#!/bin/bash
# The graph from pv-ctrl: a fake pv-ctrl answers with a graph of more than
# 2 MiB written in 1000-byte pieces; pv-xconnect polls it, applies changes
# within its interval, keeps its links while pv-ctrl is away (said once),
# and picks up again when it is back.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd python3 nc

ea=$(free_port)
eb=$(free_port)
port=$(free_port)
bg echoA $PVXTOOL echo "127.0.0.1:$ea" --tag A
bg echoB $PVXTOOL echo "127.0.0.1:$eb" --tag B
wait_for 5 port_open "$ea"
wait_for 5 port_open "$eb"
tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }

# A large answer: the link at the end of 2 MiB of padding.
serve_graph() {
	python3 -c '
import sys
link = sys.argv[1]
sys.stdout.write("[" + " " * (2 << 20) + link + "]")
' "$1" >"$T/served.json.tmp"
	mv "$T/served.json.tmp" "$T/served.json"
}
serve_graph "$(ingress web "127.0.0.1:$port" "127.0.0.1:$ea" nginx $$)"
start_ctrl() {
	$PVXTOOL ctrl "$T/ctrl.sock" --file "$T/served.json" --piece 1000 >"$T/ctrl.log" 2>&1 &
	ctrl_pid=$!
	on_cleanup "kill $ctrl_pid"
	wait_for 5 test -S "$T/ctrl.sock"
}
start_ctrl

"$PVX" --ctrl "$T/ctrl.sock" --interval 200 >"$T/pvx.log" 2>&1 &
PVX_PID=$!
on_cleanup "kill $PVX_PID"
wait_for 10 port_open "$port"
assert_eq "$(tag "$port")" A "answer with the first graph"

# A change is applied at the next polls.
serve_graph "$(ingress web "127.0.0.1:$port" "127.0.0.1:$eb" nginx $$)"
wait_for 5 sh -c "[ \"\$($PVXTOOL tag 127.0.0.1:$port 2>/dev/null)\" = B ]"

# pv-ctrl goes away: the link keeps serving, the failure is said once.
kill "$ctrl_pid"
wait "$ctrl_pid" 2>/dev/null || true
rm -f "$T/ctrl.sock"
sleep 1.5
assert_eq "$(tag "$port")" B "answer while pv-ctrl is away"
assert_eq "$(grep -c "graph from $T/ctrl.sock: .*retrying" "$T/pvx.log")" 1 "lines about the missing pv-ctrl"

# Back, with the link gone: the port closes.
serve_graph ""
start_ctrl
wait_for 5 grep -q "graph from $T/ctrl.sock: fetched again" "$T/pvx.log"
wait_for 5 sh -c "! nc -z 127.0.0.1 $port"
pvx_alive
echo "PASS"
