#!/bin/bash
# Fault: a backend killed (SIGKILL) mid-stream. Its clients are closed at
# once (not left hanging), the sessions of another backend run on and
# lose nothing (echo checked line by line, then 4 x 32 MiB with SHA-256
# both ways), the proxy stays up, new clients of the dead backend are
# closed at once, and every fd of the dead sessions is released.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd python3 nc

ea=$(free_port) eb=$(free_port) pa=$(free_port) pb=$(free_port)
$PVXTOOL echo "127.0.0.1:$ea" >"$T/echo-a.log" 2>&1 &
A=$!
on_cleanup "kill $A"
bg echo-b $PVXTOOL echo "127.0.0.1:$eb"
wait_for 5 port_open "$ea"
wait_for 5 port_open "$eb"
graph "$(ingress a "127.0.0.1:$pa" "127.0.0.1:$ea")" \
	"$(ingress b "127.0.0.1:$pb" "127.0.0.1:$eb")"
start_pvx
wait_for 5 port_open "$pa"
wait_for 5 port_open "$pb"
sleep 0.3 # the port_open probes end their sessions
base=$(fd_count "$PVX_PID")

# Three sessions on a: two echoing lines, one streaming 1 GiB; two on b.
for i in 1 2; do
	$PVXTOOL hold "127.0.0.1:$pa" --seconds 30 >"$T/hold-a$i.log" 2>&1 &
	eval "ha$i=\$!"
done
$PVXTOOL stream "127.0.0.1:$pa" --mb 1024 >"$T/stream-a.log" 2>&1 &
sa=$!
for i in 1 2; do
	$PVXTOOL hold "127.0.0.1:$pb" --seconds 4 >"$T/hold-b$i.log" 2>&1 &
	eval "hb$i=\$!"
done
on_cleanup "kill $ha1 $ha2 $sa $hb1 $hb2"
sleep 1
kill -0 "$sa" 2>/dev/null || fail "the 1 GiB stream ended before the kill: $(cat "$T/stream-a.log")"

t0=$(date +%s%N)
kill -9 "$A"
wait "$A" 2>/dev/null || true
# a's clients: closed at once, each reports the broken echo.
for p in $ha1 $ha2 $sa; do
	for _ in $(seq 40); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -0 "$p" 2>/dev/null && fail "a client of the killed backend still hangs 2 s later"
	rc=0
	wait "$p" || rc=$?
	[ $rc -ne 0 ] || fail "a client of the killed backend saw a complete echo"
done
took=$((($(date +%s%N) - t0) / 1000000))
echo "backend a killed: its 3 clients closed within $took ms"

# b: unaffected, nothing lost.
for i in 1 2; do
	eval "p=\$hb$i"
	wait "$p" || fail "b's session $i broke: $(cat "$T/hold-b$i.log")"
done
for i in 1 2 3 4; do
	$PVXTOOL stream "127.0.0.1:$pb" --mb 32 --seed $i >"$T/stream-b$i.log" 2>&1 &
	eval "sb$i=\$!"
done
for i in 1 2 3 4; do
	eval "p=\$sb$i"
	wait "$p" || fail "stream $i through b: $(cat "$T/stream-b$i.log")"
done
echo "backend b: 2 sessions echoed every line across the kill, 4 x 32 MiB identical both ways"

# New clients of a: closed at once, the failure said.
t0=$(date +%s%N)
out=$(echo hello | nc -w 5 127.0.0.1 "$pa" || true)
took=$((($(date +%s%N) - t0) / 1000000))
assert_eq "$out" "" "a new client of the dead backend"
[ "$took" -lt 1000 ] || fail "a new client of the dead backend waited $took ms"
grep -q "link a: connect to 127.0.0.1:$ea failed: Connection refused" "$T/pvx.log" ||
	fail "no connect failure logged"
pvx_alive
wait_for 5 fds_are "$PVX_PID" "$base"
echo "PASS"
