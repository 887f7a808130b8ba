#!/bin/bash
# --threads N: N event loops, each with its own listener on the same port
# (SO_REUSEPORT). Clients are served by every thread, bytes arrive intact,
# the figures (stats page, pv-ctrl) count the sessions of all threads, a
# reload reaches every thread, and SIGTERM ends them all cleanly.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc ss curl jq

e1=$(free_port)
e2=$(free_port)
port=$(free_port)
port2=$(free_port)
stats=$(free_port)
bg echo1 $PVXTOOL echo "127.0.0.1:$e1"
bg echo2 $PVXTOOL echo "127.0.0.1:$e2" --tag TWO
wait_for 20 port_open "$e1"
wait_for 20 port_open "$e2"
graph "$(ingress one "127.0.0.1:$port" "127.0.0.1:$e1")"

# Bad values are refused with one line.
for bad in 0 65 x 2x; do
	set +e
	out=$("$PVX" --graph "$T/graph.json" --threads "$bad" 2>&1)
	rc=$?
	set -e
	assert_eq "$rc" 2 "exit status for --threads $bad"
	echo "$out" | grep -q -- "--threads" || fail "--threads $bad: $out"
done

start_pvx --threads 3 --stats "127.0.0.1:$stats"
wait_for 20 port_open "$port"
grep -q "3 threads, listeners shared with SO_REUSEPORT" "$T/pvx.log" ||
	fail "no threads line"
# The main thread and two workers, named pvx-worker-N (a sanitizer's or
# an emulator's own threads are not counted).
assert_eq "$(cat /proc/"$PVX_PID"/task/*/comm | grep -c '^pvx-worker-')" 2 "worker threads"
# One listening socket per thread on the same port.
wait_for 20 sh -c "[ \$(ss -Hltn '( sport = :$port )' | wc -l) -eq 3 ]"

# 60 held sessions, each echoing lines: spread over the threads, all
# counted in the figures. Each is held until all 60 are counted.
pids=""
for i in $(seq 60); do
	$PVXTOOL hold "127.0.0.1:$port" --until "$T/hold.stop" >"$T/hold$i.log" 2>&1 &
	pids="$pids $!"
done
on_cleanup "kill $pids"
for i in $(seq 60); do wait_for 60 grep -q connected "$T/hold$i.log"; done
now() {
	curl -s "http://127.0.0.1:$stats/status" |
		jq '[.frontends[] | select(.name == "one") | .sessions_now] | add'
}
now_is() { [ "$(now)" = "$1" ]; }
wait_for 30 now_is 60
touch "$T/hold.stop"
for p in $pids; do
	wait "$p" || fail "a held session broke: $(cat "$T"/hold*.log | grep -v echoed | head -3)"
done
# Bulk both ways through whichever thread, intact; the kernel spreads the
# 12 clients, so that more than one thread does work.
for i in $(seq 12); do
	$PVXTOOL stream "127.0.0.1:$port" --mb 16 --seed $i >"$T/stream$i.log" 2>&1 &
	eval "s$i=\$!"
done
for i in $(seq 12); do
	eval "p=\$s$i"
	wait "$p" || fail "stream $i: $(cat "$T/stream$i.log")"
done
busy=0
for task in /proc/"$PVX_PID"/task/*; do
	ticks=$(awk '{ print $14 + $15 }' "$task/stat")
	[ "$ticks" -gt 0 ] && busy=$((busy + 1))
done
echo "threads that moved bytes: $busy of 3"
[ "$busy" -ge 2 ] || fail "only $busy thread(s) did any work"
wait_for 20 sh -c "[ \"\$(curl -s http://127.0.0.1:$stats/status | jq '[.frontends[] | select(.name == \"one\") | .sessions_total] | add')\" -ge 72 ]" ||
	fail "sessions_total does not count every thread's sessions"

# A reload reaches every thread: the new link listens three times.
graph "$(ingress one "127.0.0.1:$port" "127.0.0.1:$e1")" \
	"$(ingress two "127.0.0.1:$port2" "127.0.0.1:$e2")"
reload
wait_for 20 sh -c "[ \$(ss -Hltn '( sport = :$port2 )' | wc -l) -eq 3 ]" ||
	fail "the new link is not listening in every thread"
for _ in $(seq 12); do
	assert_eq "$($PVXTOOL tag "127.0.0.1:$port2")" TWO "answer on the new link"
done

# SIGTERM: every thread ends, exit 0.
kill -TERM "$PVX_PID"
wait_for 20 gone "$PVX_PID"
rc=0
wait "$PVX_PID" || rc=$?
assert_eq "$rc" 0 "exit status"
echo "PASS"
