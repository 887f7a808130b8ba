#!/bin/bash
# Out of file descriptors: with a low RLIMIT_NOFILE and more clients than
# fds, accept fails with EMFILE. The listener pauses instead of spinning
# (CPU stays near zero, one log line), waiting clients stay in the backlog
# and are served once fds are free again.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc prlimit

echo_port=$(free_port)
port=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port" --tag OK
wait_for 20 port_open "$echo_port"
graph "$(ingress tight "127.0.0.1:$port" "127.0.0.1:$echo_port")"
# --maxconn: the default cap follows the fd limit at start, which the
# prlimit below may precede; this test is about running out of fds.
"$PVX" --graph "$T/graph.json" --maxconn 1000 >"$T/pvx.log" 2>&1 &
PVX_PID=$!
on_cleanup "kill $PVX_PID"
prlimit --pid "$PVX_PID" --nofile=24:24
wait_for 20 port_open "$port"

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
# 30 idle clients need 60 fds: most wait.
# They hold until released (connects complete in the backlog, so all 30
# connect).
$PVXTOOL slow "127.0.0.1:$port" --until "$T/slow.stop" --count 30 >"$T/slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 30 grep -q "connected 30" "$T/slow.log"
wait_for 30 grep -q "link tight: [a-z]*: Too many open files, pausing accepts" "$T/pvx.log"
t0=$(cpu_ticks "$PVX_PID")
# The window: a listener spinning on EMFILE would burn it all.
sleep 2
t1=$(cpu_ticks "$PVX_PID")
hz=$(getconf CLK_TCK)
echo "CPU while out of fds: $((t1 - t0)) ticks in 2 s (of $((2 * hz)))"
[ $((t1 - t0)) -lt $((hz / 5)) ] || fail "spinning on EMFILE: $((t1 - t0)) ticks in 2 s"
assert_eq "$(grep -c "Too many open files" "$T/pvx.log")" 1 "EMFILE lines"

# The clients go; new ones are served (and the backlog drained).
touch "$T/slow.stop"
wait "$slow" || fail "slow clients: $(cat "$T/slow.log")"
served() { [ "$($PVXTOOL tag "127.0.0.1:$port" 2>/dev/null)" = OK ]; }
wait_for 30 served
# Recovery is said by the first session that gets through once the
# shortage is a second old.
recovered() { served && grep -q "link tight: sessions get through again" "$T/pvx.log"; }
wait_for 30 recovered
assert_eq "$(grep -c "sessions get through again" "$T/pvx.log")" 1 "recovery lines"
pvx_alive
echo "PASS"
