#!/bin/bash
# Limits: pv-xconnect's global session cap over all ingresses. With
# --maxconn 3 and three sessions held on two ingresses, a fourth client
# (on either ingress) waits in the backlog, neither served nor dropped,
# and is served as soon as a session ends. Without --maxconn the cap
# follows the fd limit at start: (nofile - 64) / 2.
# Covered elsewhere: a rule's maxconn (21-xconnect-tcp), connect timeouts
# on by default (23-xconnect-reconcile), the idle timeout's default and
# "idle_ms": 0 (unit test_xconnect_limits; 21 for idle_ms itself),
# 64 KiB per direction and session (26-xconnect-slow-reader), pv-ctrl's
# head, body, header-count and time limits (11-pvd-ctrl).
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc prlimit ss

echo_port=$(free_port)
pa=$(free_port) pb=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port" --tag OK
wait_for 20 port_open "$echo_port"
graph "$(ingress a "127.0.0.1:$pa" "127.0.0.1:$echo_port")" \
	"$(ingress b "127.0.0.1:$pb" "127.0.0.1:$echo_port")"
start_pvx --maxconn 3
grep -q "at most 3 sessions$" "$T/pvx.log" || fail "no cap line: $(head -3 "$T/pvx.log")"
wait_for 20 listening a
wait_for 20 listening b

# Three sessions held until released: two on a, one on b.
$PVXTOOL slow "127.0.0.1:$pa" --until "$T/slow.stop" --count 2 >"$T/slow-a.log" 2>&1 &
slow_a=$!
$PVXTOOL slow "127.0.0.1:$pb" --until "$T/slow.stop" --count 1 >"$T/slow-b.log" 2>&1 &
slow_b=$!
on_cleanup "kill $slow_a $slow_b"
# conns N PORT: N connections of clients to PORT (accepted or waiting in
# the backlog: close-wait once the client half-closed).
conns() {
	[ "$(ss -tnH state established state close-wait "( dport = :$2 )" | wc -l)" -eq "$1" ]
}
wait_for 20 conns 3 "$echo_port"
# A fourth client on b, and a fifth on a: both wait (tag's own timeout, a
# minute, is a hang guard).
$PVXTOOL tag "127.0.0.1:$pb" --timeout 60 >"$T/fourth.out" 2>&1 &
fourth=$!
$PVXTOOL tag "127.0.0.1:$pa" --timeout 60 >"$T/fifth.out" 2>&1 &
fifth=$!
on_cleanup "kill $fourth $fifth"
# Both connected: in the backlogs.
wait_for 20 conns 2 "$pb"
wait_for 20 conns 3 "$pa"
# Nothing for them while the three hold: a second to show it.
sleep 1
gone $fourth && fail "the fourth client did not wait: $(cat "$T/fourth.out")"
gone $fifth && fail "the fifth client did not wait: $(cat "$T/fifth.out")"
[ ! -s "$T/fourth.out" ] || fail "the fourth client was served over the cap"
assert_eq "$(ss -tnH state established "( dport = :$echo_port )" | wc -l)" 3 "backend connections at the cap"
assert_eq "$(grep -c "sessions: at --maxconn, new clients wait in the backlog" "$T/pvx.log")" 1 "cap log lines"
# The held sessions end: the waiting clients are served.
t0=$(date +%s%N)
touch "$T/slow.stop"
wait $slow_a $slow_b || true
wait $fourth || fail "fourth client: $(cat "$T/fourth.out")"
wait $fifth || fail "fifth client: $(cat "$T/fifth.out")"
took=$((($(date +%s%N) - t0) / 1000000))
assert_eq "$(cat "$T/fourth.out")" OK "fourth client's answer"
assert_eq "$(cat "$T/fifth.out")" OK "fifth client's answer"
echo "cap 3: clients 4 and 5 waited while the three held, served ${took} ms after they were released"
pvx_alive

# The default: from the fd limit at start.
kill $PVX_PID
wait $PVX_PID 2>/dev/null || true
prlimit --nofile=256:256 "$PVX" --graph "$T/graph.json" >"$T/pvx2.log" 2>&1 &
pid2=$!
on_cleanup "kill $pid2"
wait_for 20 grep -q "at most" "$T/pvx2.log"
grep -q "at most 96 sessions (from the fd limit" "$T/pvx2.log" ||
	fail "default cap with 256 fds: $(grep "at most" "$T/pvx2.log")"
echo "default cap with 256 fds: 96 sessions"
echo "PASS"
