#!/bin/bash
# Http links (docs/http.md): slow clients do not block others. 1,000 clients
# dribble a head that never ends (a byte each every 200 ms, one Python
# process) while 50 ordinary requests all get their 200; the proxy's fds
# return to where they were once the dribblers leave. Then 200 dribblers on
# a rule with head_ms 1000 each get a 408 and are closed by the proxy, and
# the fds return again.
#
# PVX_HTTP_PROXY=pv-xconnect (default) or haproxy: the proxy under test.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
. "$TOP/tests/helpers/http.sh"
need_cmd curl
SLOW="$PYTHON $TOP/tests/helpers/slowloris.py"
# 1,000 client sockets here, as many plus the backends' in the proxy.
[ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null ||
	fail "ulimit -n is $(ulimit -n) and cannot be raised to 4096 (hard limit $(ulimit -Hn))"

read -r bport P P408 <<<"$(free_ports 3 | tr "\n" " ")"
backend app "127.0.0.1:$bport"
graph "$(http_link patient "127.0.0.1:$P" "127.0.0.1:$bport" '"timeouts":{"head_ms":30000}')" \
	"$(http_link strict "127.0.0.1:$P408" "127.0.0.1:$bport" '"timeouts":{"head_ms":1000}')"
start_http_proxy "$P" "$P408"
# No client connection left on the proxy's ports (its idle connections to
# the backend may stay: both proxies keep a pool).
no_clients() {
	[ "$(ss -Htn state established state close-wait "( sport = :$P or sport = :$P408 )" | wc -l)" -eq 0 ]
}
# fds back near where they were: the idle pool to the backend may differ
# by a few.
fds_near() { [ "$(fd_count "$PROXY_PID")" -le $((fds_before + 8)) ]; }
U=http://127.0.0.1:$P
assert_eq "$(status_of "$U/ok")" 200 "a request before the dribble"
assert_eq "$(status_of "http://127.0.0.1:$P408/ok")" 200 "a request to the head_ms 1000 rule"
wait_for 30 no_clients
fds_before=$(fd_count "$PROXY_PID")

# 1,000 dribblers, for at most 20 s (they stop when told, after the
# requests); the requests start once all are connected.
$SLOW "$P" 1000 --interval 0.2 --max 20 --stop "$T/stop" --ready "$T/ready" >"$T/slow1.log" 2>&1 &
slow=$!
on_cleanup "kill $slow"
wait_for 30 test -e "$T/ready"
fds_during=$(fd_count "$PROXY_PID")
codes=""
for i in $(seq 1 50); do
	codes="$codes $(status_of "$U/during-$i")"
done
touch "$T/stop"
wait "$slow" || fail "the dribbler failed: $(cat "$T/slow1.log")"
ok=$(echo "$codes" | tr ' ' '\n' | grep -c '^200$' || true)
assert_eq "$ok" 50 "requests answered 200 during the dribble (codes:$codes)"
summary=$(tail -1 "$T/slow1.log")
echo "dribble: $summary; proxy fds $fds_before before, $fds_during during"
case "$summary" in "connected 1000 open "*) ;; *) fail "dribblers: want 1000 connected, got: $summary" ;; esac
open=$(echo "$summary" | awk '{print $4}')
# The load was there while the 50 went through: the dribblers were still
# connected when told to stop (head_ms 30000 is far off).
[ "$open" -ge 990 ] || fail "dribblers still connected at the end: $open of 1000, want >= 990 ($summary)"
[ "$fds_during" -ge $((fds_before + 900)) ] ||
	fail "the proxy held $fds_during fds during the dribble ($fds_before before): the dribblers were not its clients"
wait_for 30 no_clients
wait_for 30 fds_near
assert_eq "$(status_of "$U/after")" 200 "a request after the dribble"
echo "50 requests all 200 during 1000 dribblers; fds back to $(fd_count "$PROXY_PID") (from $fds_before)"

# head_ms 1000: 200 dribblers for at most 8 s each get a 408, and the
# proxy closes them.
$SLOW "$P408" 200 --interval 0.2 --max 8 >"$T/slow2.log" 2>&1 ||
	fail "the dribbler failed: $(cat "$T/slow2.log")"
summary=$(tail -1 "$T/slow2.log")
assert_eq "$summary" "connected 200 open 0 closed-by-proxy 200 answers 408:200" "200 dribblers against head_ms 1000"
wait_for 30 no_clients
wait_for 30 fds_near
assert_eq "$(status_of "http://127.0.0.1:$P408/after")" 200 "a request after the 408s"
echo "head_ms 1000: $summary; fds back to $(fd_count "$PROXY_PID") (from $fds_before)"
proxy_alive
echo "PASS ($PVX_HTTP_PROXY)"
