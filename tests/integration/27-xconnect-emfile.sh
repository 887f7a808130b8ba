#!/bin/bash
# Out of file descriptors: with a low RLIMIT_NOFILE and more clients than
# fds, accept fails with EMFILE. The listener pauses instead of spinning
# (CPU stays near zero, one log line), waiting clients stay in the backlog
# and are served once fds are free again.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd python3 nc prlimit

echo_port=$(free_port)
port=$(free_port)
bg echo $PVXTOOL echo "127.0.0.1:$echo_port" --tag OK
wait_for 5 port_open "$echo_port"
graph "$(ingress tight "127.0.0.1:$port" "127.0.0.1:$echo_port")"
# --maxconn: the default cap follows the fd limit at start, which the
# prlimit below may precede; this test is about running out of fds.
"$PVX" --graph "$T/graph.json" --maxconn 1000 >"$T/pvx.log" 2>&1 &
PVX_PID=$!
on_cleanup "kill $PVX_PID"
prlimit --pid "$PVX_PID" --nofile=24:24
wait_for 5 port_open "$port"

cpu_ticks() { awk '{print $14 + $15}' /proc/"$1"/stat; }
# 30 idle clients need 60 fds: most wait.
$PVXTOOL slow "127.0.0.1:$port" --seconds 4 --count 30 >"$T/slow.log" 2>&1 &
slow=$!
wait_for 5 grep -q "link tight: [a-z]*: Too many open files, pausing accepts" "$T/pvx.log"
t0=$(cpu_ticks "$PVX_PID")
sleep 2
t1=$(cpu_ticks "$PVX_PID")
hz=$(getconf CLK_TCK)
echo "CPU while out of fds: $((t1 - t0)) ticks in 2 s (of $((2 * hz)))"
[ $((t1 - t0)) -lt $((hz / 5)) ] || fail "spinning on EMFILE: $((t1 - t0)) ticks in 2 s"
assert_eq "$(grep -c "Too many open files" "$T/pvx.log")" 1 "EMFILE lines"

# The clients go; new ones are served (and the backlog drained).
wait "$slow" || fail "slow clients: $(cat "$T/slow.log")"
wait_for 10 sh -c "[ \"\$($PVXTOOL tag 127.0.0.1:$port 2>/dev/null)\" = OK ]"
# Recovery is said once the shortage is a second old.
sleep 1.1
assert_eq "$($PVXTOOL tag "127.0.0.1:$port")" OK "answer after recovery"
grep -q "link tight: sessions get through again" "$T/pvx.log" || fail "recovery not logged"
pvx_alive
echo "PASS"
