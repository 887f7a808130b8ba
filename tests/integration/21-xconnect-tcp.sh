#!/bin/bash
# TCP backends through pv-xconnect: 64 MiB streams echoed back with a
# half-close, four at once, identical SHA-256 both ways; IPv6 on both
# sides; a refused backend closes the client at once; no fd left behind.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc ss
"$PYTHON" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null ||
	skip "no IPv6 on loopback"

echo_port=$(free_port)
echo6_port=$(free_port)
port=$(free_port)
port6=$(free_port)
dead_port=$(free_port)
refused_port=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port"
bg echo6 $PVXTOOL echo "[::1]:$echo6_port"
wait_for 20 port_open "$echo_port"
wait_for 20 port_open "$echo6_port" ::1
idle_port=$(free_port)
talk_port=$(free_port)
pp_port=$(free_port)
pp1=$(free_port)
pp2=$(free_port)
allowed=$(free_port)
denied=$(free_port)
mc=$(free_port)
bg proxyecho $PVXTOOL proxyecho "127.0.0.1:$pp_port"
graph "$(ingress tcp4 "127.0.0.1:$port" "127.0.0.1:$echo_port")" \
	"$(ingress tcp6 "[::1]:$port6" "[::1]:$echo6_port")" \
	"$(ingress refused "127.0.0.1:$dead_port" "127.0.0.1:$refused_port")" \
	"$(ingress idle "127.0.0.1:$idle_port" "127.0.0.1:$echo_port" _host_ 0 '"timeouts":{"idle_ms":500}')" \
	"$(ingress talk "127.0.0.1:$talk_port" "127.0.0.1:$echo_port" _host_ 0 '"timeouts":{"idle_ms":2000}')" \
	"$(ingress pp1 "127.0.0.1:$pp1" "127.0.0.1:$pp_port" _host_ 0 '"proxy_protocol":"v1"')" \
	"$(ingress pp2 "127.0.0.1:$pp2" "127.0.0.1:$pp_port" _host_ 0 '"proxy_protocol":"v2"')" \
	"$(ingress allowed "127.0.0.1:$allowed" "127.0.0.1:$echo_port" _host_ 0 '"allow":["10.0.0.0/8","127.0.0.0/8"]')" \
	"$(ingress denied "127.0.0.1:$denied" "127.0.0.1:$echo_port" _host_ 0 '"allow":["10.0.0.0/8","::1/128"]')" \
	"$(ingress mc "127.0.0.1:$mc" "127.0.0.1:$echo_port" _host_ 0 '"maxconn":2')"
start_pvx
# From the log, not by connecting: no session yet when the fds are counted.
for l in tcp4 tcp6 refused idle talk pp1 pp2 allowed denied mc; do
	wait_for 20 listening "$l"
done
fds_before=$(fd_count "$PVX_PID")

# Four 64 MiB streams at once through the IPv4 link.
pids=""
for i in 1 2 3 4; do
	$PVXTOOL stream "127.0.0.1:$port" --mb 64 --seed "$i" >"$T/stream$i.out" 2>&1 &
	pids="$pids $!"
done
for p in $pids; do
	wait "$p" || fail "a 64 MiB stream did not come back intact: $(cat "$T"/stream*.out)"
done
for i in 1 2 3 4; do
	sent=$(awk '/^sent/ {print $4}' "$T/stream$i.out")
	recv=$(awk '/^recv/ {print $4}' "$T/stream$i.out")
	assert_eq "$recv" "$sent" "SHA-256 of stream $i"
	assert_eq "$(awk '/^recv/ {print $2}' "$T/stream$i.out")" 67108864 "bytes back in stream $i"
done
echo "4 x 64 MiB streams: $(awk '/^sent/ {print $4}' "$T/stream1.out" | cut -c1-16)... identical both ways"

# IPv6 listener to an IPv6 backend.
$PVXTOOL stream "[::1]:$port6" --mb 16 >"$T/stream6.out" 2>&1 ||
	fail "IPv6 stream: $(cat "$T/stream6.out")"

# A refused backend: the client is closed, not held (nc's -w 60 is a hang
# guard), the failure logged.
start=$(date +%s%N)
out=$(echo hi | nc -w 60 127.0.0.1 "$dead_port" || true)
took=$((($(date +%s%N) - start) / 1000000))
assert_eq "$out" "" "answer from a refused backend"
grep -q "link refused: connect to 127.0.0.1:$refused_port failed: Connection refused" "$T/pvx.log" ||
	fail "refused connect not logged"
echo "refused backend: client closed after $took ms"

# A session with nothing to say is closed after idle_ms (tag ends on the
# proxy's EOF, exit 0, or fails at its own 60 s); one that talks is not,
# for more than twice its idle_ms.
start=$(date +%s%N)
$PVXTOOL tag "127.0.0.1:$idle_port" --timeout 60 >/dev/null 2>&1 ||
	fail "idle session not closed by the proxy within 60 s (idle_ms 500)"
took=$((($(date +%s%N) - start) / 1000000))
[ "$took" -ge 450 ] || fail "idle session closed after $took ms, before idle_ms 500"
echo "idle_ms 500: idle session closed after $took ms"
$PVXTOOL hold "127.0.0.1:$talk_port" --seconds 5 >"$T/hold.out" 2>&1 ||
	fail "a talking session was cut by the idle timeout: $(cat "$T/hold.out")"

# The PROXY protocol: the backend learns the client's address first.
wait_for 20 port_open "$pp_port"
got=$($PVXTOOL tag "127.0.0.1:$pp1")
case "$got" in "PROXY TCP4 127.0.0.1 127.0.0.1 "[0-9]*" $pp1") ;; *) fail "PROXY v1 header: $got" ;; esac
got=$($PVXTOOL tag "127.0.0.1:$pp2")
case "$got" in "v2 ver=0x21 fam=0x11 127.0.0.1 127.0.0.1 "[0-9]*" $pp2") ;; *) fail "PROXY v2 header: $got" ;; esac
$PVXTOOL stream "127.0.0.1:$pp2" --mb 4 --skip-tag >"$T/pp.out" 2>&1 || fail "stream after a PROXY header: $(cat "$T/pp.out")"

# Allow lists: a client outside them is closed without reaching the
# backend.
assert_eq "$(echo in | nc -N -w 30 127.0.0.1 "$allowed")" in "client inside the allow list"
assert_eq "$(echo out | nc -N -w 30 127.0.0.1 "$denied" || true)" "" "client outside the allow list"

# maxconn 2: a third client waits in the backlog (not dropped) until one
# of the first two leaves.
# The two hold their sessions until told; the third starts only once both
# are connected (ss), so it is behind them in the accept queue.
$PVXTOOL slow "127.0.0.1:$mc" --until "$T/mc.stop" --count 2 >"$T/mc-slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
# The proxy's side, accepted or in the backlog (close-wait: nc sent its
# line and half-closed).
mc_conns() {
	[ "$(ss -Htn state established state close-wait "( sport = :$mc )" | wc -l)" -ge "$1" ]
}
wait_for 20 mc_conns 2
(echo waited | nc -N -w 60 127.0.0.1 "$mc" >"$T/mc.out" 2>&1) &
waiter=$!
wait_for 20 mc_conns 3
# Nothing for the third while the two hold: half a second to show it.
sleep 0.5
assert_eq "$(cat "$T/mc.out")" "" "answer to a client beyond maxconn"
touch "$T/mc.stop"
wait "$slow"
wait "$waiter" || true
assert_eq "$(cat "$T/mc.out")" waited "answer once a session left"

# Per-connection lines only with --verbose.
grep -q "connected to" "$T/pvx.log" && fail "per-connection lines without --verbose"

# Every session is gone: the fd count is back where it was.
wait_for 30 fds_are "$PVX_PID" "$fds_before"
pvx_alive
echo "PASS"
