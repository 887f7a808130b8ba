#!/bin/bash
# pvd and pv-xconnect under valgrind (memcheck, full leak check): any
# memory error or definite leak in any of the processes fails the test.
#  1. pvd --check on the golden and bad states;
#  2. pvd as a daemon, with pv-xconnect (also under valgrind) supervised:
#     every pv-ctrl endpoint, bad and oversized requests, pipelining, a
#     client that vanishes mid-request, status reports, pv-xconnect
#     stopped, started and SIGKILLed (restarted), then SIGTERM;
#  3. pv-xconnect with a graph file: TCP and Unix backends, streams with
#     a half-close, a refused backend, an allow list, the PROXY protocol,
#     the stats page, a reload that removes a link, then SIGTERM.
# Containers are left out: liblxc's start (namespaced clone) does not run
# under valgrind; the ASan build runs that path (10-pvd-run and others
# under `make SANITIZER=address,undefined check`).
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd valgrind curl jq nc
# A sanitizer build (BUILD=build/asan) cannot run under valgrind: both
# own the process's memory map. The plain build is the one to check.
if nm "$PVD" "$PVX" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	echo "not run: $BUILD holds a sanitizer build; valgrind checks the plain one"
	exit 0
fi

# pv-xconnect on the user-space data path here: the kernel path's probe
# and maps are bpf() calls whose attributes memcheck cannot follow (the
# unit tests and the sockmap CI stage check that path).
export PVX_DATAPATH=splice
VG="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite --track-origins=yes"
# Every process writes its own log; any line in one is a finding. (Not a
# shell function for the background runs: $! must be valgrind itself.)
vglog() { echo "--log-file=$T/vg-$1.%p.vglog"; }
check_logs() {
	for f in "$T"/vg-*.vglog; do
		[ -e "$f" ] || continue
		[ ! -s "$f" ] || { cat "$f" >&2; fail "valgrind: $(basename "$f")"; }
	done
}

# --- 1. pvd --check
n=0
for s in "$TOP"/tests/data/states/*.json "$TOP"/tests/data/bad/*.json; do
	want=0
	"$PVD" --check --state "$s" >/dev/null 2>&1 || want=$?
	got=0
	$VG "$(vglog check)" "$PVD" --check --state "$s" >/dev/null 2>&1 || got=$?
	assert_eq "$got" "$want" "pvd --check $(basename "$s") under valgrind"
	n=$((n + 1))
done
check_logs
echo "pvd --check: $n states, clean"

# --- 2. pvd with pv-xconnect
SOCK=$T/ctrl/pv-ctrl
cat >"$T/pvx-vg" <<EOF
#!/bin/sh
exec $VG --log-file="$T/vg-pvx-sup.%p.vglog" "$PVX" "\$@"
EOF
chmod +x "$T/pvx-vg"
echo '{"#spec":"pantavisor-service-system@1","device.json":{}}' >"$T/state.json"
$VG "$(vglog pvd)" "$PVD" --state "$T/state.json" --ctrl "$SOCK" --run-dir "$T/run" \
	--xconnect "$T/pvx-vg" >"$T/pvd.log" 2>&1 &
PID=$!
on_cleanup "terminate $PID"
wait_for 60 test -S "$SOCK"
c() { curl -s --max-time 20 --unix-socket "$SOCK" "$@"; }
code() { curl -s --max-time 20 -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "$@"; }
pvx_pid() { c http://l/daemons | jq -r '.[] | select(.name=="pv-xconnect") | .pid'; }
# Status and metrics are PUT after each poll, in that order.
reported() { [ "$(code http://l/metrics)" = 200 ]; }
assert_eq "$(c http://l/xconnect-graph)" "[]" "graph"
assert_eq "$(c http://l/containers)" "[]" "containers"
wait_for 30 reported
c http://l/xconnect-status | jq -e . >/dev/null || fail "status report"
assert_eq "$(code http://l/nope)" 404 "unknown path"
assert_eq "$(code -X DELETE http://l/containers)" 405 "wrong method"
assert_eq "$(code -X PUT -d '{"action":' http://l/daemons/pv-xconnect)" 400 "bad JSON"
assert_eq "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" http://l/containers)" 413 "big head"
assert_eq "$(code -X PUT -H 'Transfer-Encoding: chunked' -d '{}' http://l/xconnect-status)" 501 "chunked"
printf 'GET /containers HTTP/1.1\r\n\r\nGET /daemons HTTP/1.1\r\nConnection: close\r\n\r\n' |
	nc -U -w 20 "$SOCK" | grep -c '^HTTP/1.1 200' | grep -qx 2 || fail "pipelined requests"
printf 'GET /containers HTTP/1.1\r\nX-Half: ' | nc -U -w 1 "$SOCK" >/dev/null || true
printf 'GARBAGE\r\n\r\n' | nc -U -w 20 "$SOCK" | head -1 | grep -q " 400 " || fail "garbage request"
# pv-xconnect: stopped, started, killed (restarted by pvd).
p1=$(pvx_pid)
assert_eq "$(code -X PUT -d '{"action":"stop"}' http://l/daemons/pv-xconnect)" 200 "stop"
wait_for 30 sh -c "! kill -0 $p1 2>/dev/null"
assert_eq "$(code -X PUT -d '{"action":"start"}' http://l/daemons/pv-xconnect)" 200 "start"
wait_for 30 sh -c "[ \"\$(curl -s --unix-socket '$SOCK' http://l/daemons | jq -r '.[0].pid')\" -gt 0 ]"
p2=$(pvx_pid)
[ "$p2" != "$p1" ] || fail "pv-xconnect not started again"
wait_for 30 reported
kill -9 "$p2"
rm -f "$T"/vg-pvx-sup."$p2".vglog # killed: no leak check possible
wait_for 30 sh -c "p=\$(curl -s --unix-socket '$SOCK' http://l/daemons | jq -r '.[0].pid'); [ \"\$p\" -gt 0 ] && [ \"\$p\" != $p2 ]"
p3=$(pvx_pid)
wait_for 30 reported
kill -TERM $PID
rc=0
wait $PID || rc=$?
assert_eq "$rc" 0 "pvd's exit status under valgrind (99: errors or leaks)"
kill -0 "$p3" 2>/dev/null && fail "pv-xconnect left running"
check_logs
echo "pvd daemon and 3 pv-xconnect runs: clean"

# --- 3. pv-xconnect with a graph file, and traffic
echo_port=$(free_port) pp_port=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port"
bg uecho $PVXTOOL echo "$T/echo.sock"
bg ppecho $PVXTOOL proxyecho "127.0.0.1:$pp_port"
wait_for 20 port_open "$echo_port"
wait_for 20 test -S "$T/echo.sock"
wait_for 20 port_open "$pp_port"
pt=$(free_port) pu=$(free_port) pr=$(free_port) pd=$(free_port) pp=$(free_port)
sp=$(free_port) dead=$(free_port)
graph "$(ingress tcp "127.0.0.1:$pt" "127.0.0.1:$echo_port")" \
	"$(ingress unix "127.0.0.1:$pu" "$T/echo.sock")" \
	"$(ingress refused "127.0.0.1:$pr" "127.0.0.1:$dead")" \
	"$(ingress denied "127.0.0.1:$pd" "127.0.0.1:$echo_port" _host_ 0 '"allow":["10.0.0.0/8"]')" \
	"$(ingress pp "127.0.0.1:$pp" "127.0.0.1:$pp_port" _host_ 0 '"proxy_protocol":"v2","timeouts":{"idle_ms":3000}')"
$VG "$(vglog pvx)" "$PVX" --graph "$T/graph.json" --stats "127.0.0.1:$sp" >"$T/pvx.log" 2>&1 &
PVX_PID=$!
on_cleanup "kill -9 $PVX_PID"
for p in $pt $pu $pr $pd $pp $sp; do wait_for 30 port_open "$p"; done
for p in $pt $pu; do
	$PVXTOOL stream "127.0.0.1:$p" --mb 4 >"$T/s$p.out" 2>&1 || fail "stream through $p: $(cat "$T/s$p.out")"
done
assert_eq "$(echo x | nc -w 10 127.0.0.1 "$pr" || true)" "" "refused backend"
assert_eq "$(echo x | nc -w 10 127.0.0.1 "$pd" || true)" "" "denied client"
$PVXTOOL tag "127.0.0.1:$pp" | grep -q "^v2 " || fail "PROXY v2 header"
curl -sf --max-time 20 "http://127.0.0.1:$sp/" | grep -q "tcp" || fail "stats page"
curl -sf --max-time 20 "http://127.0.0.1:$sp/metrics" >/dev/null || fail "stats /metrics"
# A session left open on a link that goes away (cut at the end of the
# grace period, or open still at the SIGTERM).
$PVXTOOL hold "127.0.0.1:$pt" --until "$T/never" >"$T/hold.out" 2>&1 &
on_cleanup "kill $!"
wait_for 60 grep -q connected "$T/hold.out"
graph "$(ingress unix "127.0.0.1:$pu" "$T/echo.sock")"
reload
wait_for 30 sh -c "! nc -z 127.0.0.1 $pt"
$PVXTOOL stream "127.0.0.1:$pu" --mb 1 >"$T/s.out" 2>&1 || fail "stream after the reload"
kill -TERM "$PVX_PID"
rc=0
wait "$PVX_PID" || rc=$?
assert_eq "$rc" 0 "pv-xconnect's exit status under valgrind (99: errors or leaks)"
check_logs
echo "pv-xconnect with traffic: clean"
echo "PASS"
