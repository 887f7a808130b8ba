#!/bin/bash
# The other balance modes and maxconn, with a mixed pool (app1 on a Unix
# socket, app2 on TCP) behind pv-xconnect --graph:
#   leastconn  short requests alone take turns; long-lived sessions
#              spread 2/1, then short requests all go to the backend with
#              fewer (roundrobin would split them)
#   first      everything to the first healthy backend, the next one only
#              while the first fails its checks
#   source     one client address sticks to one backend
#   maxconn 2  a third client waits in the backlog, then is served
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/balance.sh"
need_cmd curl jq ss

S1=$T/s/app1.sock
AP2=$(free_port)
SP=$(free_port)
LC=$(free_port) FIRST=$(free_port) SRC=$(free_port) MC=$(free_port)
TCPCHK='"check":{"type":"tcp","interval_ms":300,"rise":1,"fall":2}'
HTTPCHK='"check":{"type":"http","interval_ms":300,"rise":1,"fall":2}'

start_app app1 "$S1"
start_app_tcp app2 "$AP2"
pair() { # NAME PORT EXTRA: the two backends of one ingress
	printf '%s\n%s\n' \
		"$(ingress "$1" "127.0.0.1:$2" "$S1" _host_ 0 "$3")" \
		"$(ingress "$1" "127.0.0.1:$2" "127.0.0.1:$AP2" _host_ 0 "$3")"
}
# shellcheck disable=SC2046
IFS='
'
graph $(pair lc "$LC" "\"balance\":\"leastconn\",$TCPCHK") \
	$(pair first "$FIRST" "\"balance\":\"first\",$HTTPCHK") \
	$(pair src "$SRC" "\"balance\":\"source\",$TCPCHK") \
	$(pair mc "$MC" "\"balance\":\"roundrobin\",\"maxconn\":2,$TCPCHK")
unset IFS
start_pvx --stats "127.0.0.1:$SP"
wait_for 20 port_open "$SP"
fe() { status "$SP" | jq -r --arg n "$1" ".frontends[] | select(.name == \$n) | $2"; }
fe_is() { [ "$(fe "$1" "$2")" = "$3" ]; }
wait_for 20 fe_is lc '[.backends[].last_check.detail] | join(",")' "connected,connected"
wait_for 20 fe_is first '[.backends[].last_check.detail] | join(",")' "HTTP 200,HTTP 200"

# --- leastconn: equal loads take turns; 3 long-lived sessions, then
# short ones
out=$(hit 10 "http://127.0.0.1:$LC/")
assert_eq "$(count app1 "$out") $(count app2 "$out")" "5 5" \
	"leastconn with equal loads (ties go round)"
$PVXTOOL slow "127.0.0.1:$LC" --until "$T/lc.stop" --count 3 >"$T/slow.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 20 fe_is lc .sessions_now 3
held=$(fe lc '[.backends[].sessions_now] | map(tostring) | join("/")')
echo "leastconn: long-lived sessions per backend (app1/app2): $held"
case $held in
1/2) fewer=app1 ;;
2/1) fewer=app2 ;;
*) fail "3 long-lived sessions spread $held, want 2/1 or 1/2" ;;
esac
out=$(hit 10 "http://127.0.0.1:$LC/")
echo "leastconn: 10 short requests: $(echo $out)"
assert_eq "$(count "$fewer" "$out")" 10 "short requests to $fewer (fewer sessions)"
touch "$T/lc.stop"
wait "$slow" || fail "leastconn's long-lived sessions: $(cat "$T/slow.log")"
wait_for 30 fe_is lc .sessions_now 0

# --- first: app1 while healthy, app2 only while app1 fails
out=$(hit 10 "http://127.0.0.1:$FIRST/")
assert_eq "$(count app1 "$out")" 10 "first: requests to app1"
kill -USR1 "$(app_pid app1)"
wait_for 20 fe_is first '.backends[0].health' down
out=$(hit 10 "http://127.0.0.1:$FIRST/")
assert_eq "$(count app2 "$out")" 10 "first: requests to app2 while app1 fails"
kill -USR2 "$(app_pid app1)"
wait_for 20 fe_is first '.backends[0].health' up
out=$(hit 10 "http://127.0.0.1:$FIRST/")
assert_eq "$(count app1 "$out")" 10 "first: requests to app1 once back"
echo "first: app1, app2 while app1 failed, app1 again"

# --- source: each client address sticks to one backend
for src in 127.0.0.1 127.0.0.2; do
	n=0 seen=""
	while [ $n -lt 10 ]; do
		seen="$seen $(curl -s --max-time 5 --interface $src "http://127.0.0.1:$SRC/" | awk '{print $3}')"
		n=$((n + 1))
	done
	uniq=$(echo $seen | tr ' ' '\n' | sort -u)
	echo "source $src: $(echo $uniq)"
	[ "$(echo "$uniq" | wc -l)" -eq 1 ] && [ -n "$uniq" ] ||
		fail "client $src went to:$seen"
done

# --- maxconn 2: the third client waits in the backlog, then is served
# once a holder leaves (they hold until released)
$PVXTOOL slow "127.0.0.1:$MC" --until "$T/mc.stop" --count 2 >"$T/mc-slow.log" 2>&1 &
mc_slow=$!
on_cleanup "kill $mc_slow"
wait_for 20 fe_is mc .sessions_now 2
(curl -s --max-time 60 "http://127.0.0.1:$MC/" >"$T/mc.out" 2>&1; echo $? >"$T/mc.rc") &
# curl connected (in the backlog: the two holders read nothing).
mc_clients() { [ "$(ss -Htn state established "( dport = :$MC )" | wc -l)" -eq 3 ]; }
wait_for 20 mc_clients
# Nothing for it while the two hold: most of a second to show it.
sleep 0.8
[ ! -s "$T/mc.out" ] || fail "a client beyond maxconn was served at once"
assert_eq "$(fe mc .sessions_now)" 2 "sessions with maxconn 2"
t0=$(now_ms)
touch "$T/mc.stop"
wait_for 60 test -s "$T/mc.rc"
took=$(($(now_ms) - t0))
assert_eq "$(cat "$T/mc.rc")" 0 "curl exit for the client that waited"
grep -q "Hello from" "$T/mc.out" || fail "waiting client's answer: $(cat "$T/mc.out")"
echo "maxconn 2: third client served $took ms after the holders left"
[ "$(fe mc .maxconn)" = 2 ] || fail "maxconn in the status: $(fe mc .maxconn)"
pvx_alive
_failed=0
echo PASS
