#!/bin/bash
# Reconcile with live traffic: a backend address that appears later, a
# link updated under an open session (it survives), links of one ingress
# sharing a listener (round robin), a link removed (port closed at once,
# its session cut after the grace period, no fd left), a rule renamed on
# the same port, and connect timeouts.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd nc ss

ea=$(free_port)
eb=$(free_port)
hole=$(free_port)
bg echoA $PVXTOOL echo "127.0.0.1:$ea" --tag A
bg echoB $PVXTOOL echo "127.0.0.1:$eb" --tag B
$PVXTOOL blackhole "127.0.0.1:$hole" >"$T/hole.log" 2>&1 &
on_cleanup "kill $!"
wait_for 20 port_open "$ea"
wait_for 20 port_open "$eb"
wait_for 20 grep -q ready "$T/hole.log"

web=$(free_port)
lb=$(free_port)
slow=$(free_port)
slow_default=$(free_port)
tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- 1. the address is not leased yet, then it is
graph "$(ingress web "127.0.0.1:$web" "" nginx $$)"
start_pvx
wait_for 20 port_open "$web"
assert_eq "$(tag "$web")" "" "answer before the backend has an address"
grep -q "link web: no usable backend (nginx:(no address yet): no address yet)" "$T/pvx.log" ||
	fail "backend without address not logged"
graph "$(ingress web "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)"
reload
assert_eq "$(tag "$web")" A "answer once the address appeared"
grep -q "link web: backend 127.0.0.1:$ea (pid $$), was nginx:(no address yet)" "$T/pvx.log" ||
	fail "address change not logged"

# The provider stops (pid 0): its address is not dialled any more.
graph "$(ingress web "127.0.0.1:$web" "127.0.0.1:$ea" nginx 0)"
reload
assert_eq "$(tag "$web")" "" "answer while the provider is not running"
grep -q "link web: no usable backend (127.0.0.1:$ea: provider not running)" "$T/pvx.log" ||
	fail "stopped provider not logged"
graph "$(ingress web "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)"
reload
assert_eq "$(tag "$web")" A "answer once the provider runs again"

# --- 2. an update under an open session: the session survives, new
# clients go to the new address
$PVXTOOL hold "127.0.0.1:$web" --until "$T/hold.stop" --skip-tag >"$T/hold.log" 2>&1 &
hold=$!
on_cleanup "kill $hold"
wait_for 20 grep -q connected "$T/hold.log"
graph "$(ingress web "127.0.0.1:$web" "127.0.0.1:$eb" nginx 42 '"timeouts":{"idle_ms":60000}')"
reload
assert_eq "$(tag "$web")" B "new client after the update"
gone "$hold" && fail "session cut by an update: $(cat "$T/hold.log")"
touch "$T/hold.stop"
wait "$hold" || fail "session cut by an update: $(cat "$T/hold.log")"
grep -q "hold: tag A" "$T/hold.log" || fail "the held session was not A's: $(cat "$T/hold.log")"

# --- 3. two links of one ingress share its listener, round robin
base="$(ingress web "127.0.0.1:$web" "127.0.0.1:$eb" nginx 42 '"timeouts":{"idle_ms":60000}')"
graph "$base" "$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$ea" app1 $$)" \
	"$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$eb" app2 $$)"
reload
listening lb || fail "link lb not listening after the reload"
seq=""
for i in 1 2 3 4 5 6; do seq="$seq$(tag "$lb")"; done
case "$seq" in ABABAB | BABABA) ;; *) fail "round robin over two links gave $seq" ;; esac
assert_eq "$(grep -c "listening on 127.0.0.1:$lb" "$T/pvx.log")" 1 "listeners for one ingress"

# One of the two goes: the listener stays, the other serves.
wait_for 30 sessions_closed "$PVX_PID"
fds_before=$(fd_count "$PVX_PID")
graph "$base" "$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$eb" app2 $$)"
reload
seq=""
for i in 1 2 3; do seq="$seq$(tag "$lb")"; done
assert_eq "$seq" BBB "answers after one backend left"

# --- 4. the whole ingress goes: port closed at once, its open session is
# cut after the grace period, and no fd is left
$PVXTOOL hold "127.0.0.1:$lb" --until "$T/never" --skip-tag >"$T/hold2.log" 2>&1 &
hold=$!
on_cleanup "kill $hold"
wait_for 20 grep -q connected "$T/hold2.log"
# From before the SIGHUP: the grace period cannot have started earlier.
removed=$(now_ms)
graph "$base"
reload
port_open "$lb" && fail "port of a removed link still open"
gone "$hold" && fail "session of a removed link cut at once: $(cat "$T/hold2.log")"
# The grace period is 5 s (PVX_DRAIN_MS); a minute is only a hang guard.
wait_for 60 gone "$hold"
took=$(($(now_ms) - removed))
rc=0
wait "$hold" || rc=$?
[ "$rc" -ne 0 ] || fail "session of a removed link was not cut"
[ "$took" -ge 5000 ] || fail "session of a removed link cut after $took ms, before the grace period of 5000"
wait_for 30 grep -q "link lb: closed 1 session(s) left after the grace period" "$T/pvx.log"
echo "removed link: session cut after $took ms (grace period 5000)"
wait_for 30 fds_are "$PVX_PID" "$((fds_before - 1))"

# --- 5. a rule renamed on the same port in one reload: it binds again
graph "$(ingress web2 "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)"
reload
wait_for 20 port_open "$web"
assert_eq "$(tag "$web")" A "renamed rule on the same port"
grep -q "link web2: listen on" "$T/pvx.log" && fail "renamed rule could not bind"

# --- 6. a backend that never answers: closed at its connect timeout
graph "$(ingress web2 "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)" \
	"$(ingress slow "127.0.0.1:$slow" "127.0.0.1:$hole" hole $$ '"timeouts":{"connect_ms":1000}')" \
	"$(ingress slowdefault "127.0.0.1:$slow_default" "127.0.0.1:$hole" hole $$)"
reload
listening slow || fail "link slow not listening after the reload"
listening slowdefault || fail "link slowdefault not listening after the reload"
# The proxy closes the client at the timeout, long before nc's own (-w 60,
# a hang guard): the timeout fired, and not before its time.
start=$(now_ms)
assert_eq "$(echo hi | nc -w 60 127.0.0.1 "$slow" || true)" "" "answer of a silent backend"
took=$(($(now_ms) - start))
grep -q "link slow: connect to 127.0.0.1:$hole failed: Connection timed out" "$T/pvx.log" ||
	fail "connect_ms 1000: no timeout logged (client closed after $took ms)"
[ "$took" -ge 1000 ] || fail "connect_ms 1000: client closed after $took ms"
start=$(now_ms)
assert_eq "$(echo hi | nc -w 60 127.0.0.1 "$slow_default" || true)" "" "answer of a silent backend"
took2=$(($(now_ms) - start))
grep -q "link slowdefault: connect to 127.0.0.1:$hole failed: Connection timed out" "$T/pvx.log" ||
	fail "default connect timeout: no timeout logged (client closed after $took2 ms)"
[ "$took2" -ge 5000 ] || fail "default connect timeout (5000 ms): client closed after $took2 ms"
echo "connect timeouts: $took ms (connect_ms 1000), $took2 ms (default 5000)"
pvx_alive
echo "PASS"
