#!/bin/bash
# Fault: a backend killed (SIGKILL) mid-stream. Its clients are closed at
# once (not left hanging), the sessions of another backend run on and
# lose nothing (echo checked line by line, then 4 x 32 MiB with SHA-256
# both ways), the proxy stays up, new clients of the dead backend are
# closed at once, and every fd of the dead sessions is released.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc ss

ea=$(free_port) eb=$(free_port) pa=$(free_port) pb=$(free_port)
$PVXTOOL echo "127.0.0.1:$ea" >"$T/echo-a.log" 2>&1 &
A=$!
on_cleanup "kill $A"
bg echo-b $PVXTOOL echo "127.0.0.1:$eb"
wait_for 20 port_open "$ea"
wait_for 20 port_open "$eb"
graph "$(ingress a "127.0.0.1:$pa" "127.0.0.1:$ea")" \
	"$(ingress b "127.0.0.1:$pb" "127.0.0.1:$eb")"
start_pvx
# From the log, not by connecting: no session yet when the fds are counted.
wait_for 20 listening a
wait_for 20 listening b
base=$(fd_count "$PVX_PID")

# Three sessions on a: two echoing lines, one streaming 1 GiB; two on b.
# The echo sessions hold until told (a's never are).
for i in 1 2; do
	$PVXTOOL hold "127.0.0.1:$pa" --until "$T/never" >"$T/hold-a$i.log" 2>&1 &
	eval "ha$i=\$!"
done
$PVXTOOL stream "127.0.0.1:$pa" --mb 1024 >"$T/stream-a.log" 2>&1 &
sa=$!
for i in 1 2; do
	$PVXTOOL hold "127.0.0.1:$pb" --until "$T/b.stop" >"$T/hold-b$i.log" 2>&1 &
	eval "hb$i=\$!"
done
on_cleanup "kill $ha1 $ha2 $sa $hb1 $hb2"
for l in hold-a1 hold-a2 stream-a hold-b1 hold-b2; do
	wait_for 30 grep -q connected "$T/$l.log"
done
# The stream's session too is through to a.
at_a() { [ "$(ss -Htn state established "( sport = :$ea )" | wc -l)" -ge 3 ]; }
wait_for 30 at_a
gone "$sa" && fail "the 1 GiB stream ended before the kill: $(cat "$T/stream-a.log")"

t0=$(date +%s%N)
kill -9 "$A"
wait "$A" 2>/dev/null || true
# a's clients: closed by the proxy, not left hanging until their own
# timeouts (10 s for an echo session, that says "timed out"; 60 s for the
# stream, past the hang guard), each reports the broken echo.
for p in $ha1 $ha2 $sa; do
	wait_for 30 gone "$p"
	rc=0
	wait "$p" || rc=$?
	[ $rc -ne 0 ] || fail "a client of the killed backend saw a complete echo"
done
for i in 1 2; do
	grep -q "timed out" "$T/hold-a$i.log" &&
		fail "a's session $i was left hanging: $(cat "$T/hold-a$i.log")"
done
took=$((($(date +%s%N) - t0) / 1000000))
echo "backend a killed: its 3 clients closed within $took ms"

# b: unaffected, nothing lost.
for i in 1 2; do
	eval "p=\$hb$i"
	gone "$p" && fail "b's session $i ended with a's: $(cat "$T/hold-b$i.log")"
done
touch "$T/b.stop"
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

# New clients of a: closed (the connect is refused, nothing to wait for;
# nc's -w 30 is a hang guard), the failure said.
t0=$(date +%s%N)
out=$(echo hello | nc -w 30 127.0.0.1 "$pa" || true)
took=$((($(date +%s%N) - t0) / 1000000))
assert_eq "$out" "" "a new client of the dead backend"
grep -q "link a: connect to 127.0.0.1:$ea failed: Connection refused" "$T/pvx.log" ||
	fail "no connect failure logged"
echo "a new client of the dead backend: closed after $took ms"
pvx_alive
wait_for 30 fds_are "$PVX_PID" "$base"
echo "PASS"
