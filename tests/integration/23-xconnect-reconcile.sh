#!/bin/bash
# Reconcile with live traffic: a backend address that appears later, a
# link updated under an open session (it survives), links of one ingress
# sharing a listener (round robin), a link removed (port closed at once,
# its session cut after the grace period, no fd left), a rule renamed on
# the same port, and connect timeouts.
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_cmd python3 nc

ea=$(free_port)
eb=$(free_port)
hole=$(free_port)
bg echoA $PVXTOOL echo "127.0.0.1:$ea" --tag A
bg echoB $PVXTOOL echo "127.0.0.1:$eb" --tag B
$PVXTOOL blackhole "127.0.0.1:$hole" >"$T/hole.log" 2>&1 &
on_cleanup "kill $!"
wait_for 5 port_open "$ea"
wait_for 5 port_open "$eb"
wait_for 5 grep -q ready "$T/hole.log"

web=$(free_port)
lb=$(free_port)
slow=$(free_port)
slow_default=$(free_port)
tag() { $PVXTOOL tag "127.0.0.1:$1" 2>/dev/null || true; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- 1. the address is not leased yet, then it is
graph "$(ingress web "127.0.0.1:$web" "" nginx $$)"
start_pvx
wait_for 5 port_open "$web"
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
$PVXTOOL hold "127.0.0.1:$web" --seconds 2 --skip-tag >"$T/hold.log" 2>&1 &
hold=$!
sleep 0.5
graph "$(ingress web "127.0.0.1:$web" "127.0.0.1:$eb" nginx 42 '"timeouts":{"idle_ms":60000}')"
reload
assert_eq "$(tag "$web")" B "new client after the update"
wait "$hold" || fail "session cut by an update: $(cat "$T/hold.log")"

# --- 3. two links of one ingress share its listener, round robin
base="$(ingress web "127.0.0.1:$web" "127.0.0.1:$eb" nginx 42 '"timeouts":{"idle_ms":60000}')"
graph "$base" "$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$ea" app1 $$)" \
	"$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$eb" app2 $$)"
reload
wait_for 5 port_open "$lb"
sleep 0.3
seq=""
for i in 1 2 3 4 5 6; do seq="$seq$(tag "$lb")"; done
case "$seq" in ABABAB | BABABA) ;; *) fail "round robin over two links gave $seq" ;; esac
assert_eq "$(grep -c "listening on 127.0.0.1:$lb" "$T/pvx.log")" 1 "listeners for one ingress"

# One of the two goes: the listener stays, the other serves.
sleep 0.3
fds_before=$(fd_count "$PVX_PID")
graph "$base" "$(ingress lb "127.0.0.1:$lb" "127.0.0.1:$eb" app2 $$)"
reload
seq=""
for i in 1 2 3; do seq="$seq$(tag "$lb")"; done
assert_eq "$seq" BBB "answers after one backend left"

# --- 4. the whole ingress goes: port closed at once, its open session is
# cut after the grace period, and no fd is left
$PVXTOOL hold "127.0.0.1:$lb" --seconds 30 --skip-tag >"$T/hold2.log" 2>&1 &
hold=$!
on_cleanup "kill $hold"
sleep 0.5
graph "$base"
reload
removed=$(now_ms)
port_open "$lb" && fail "port of a removed link still open"
set +e
wait "$hold"
rc=$?
set -e
took=$(($(now_ms) - removed))
[ "$rc" -ne 0 ] || fail "session of a removed link was not cut"
[ "$took" -ge 4000 ] && [ "$took" -lt 8000 ] ||
	fail "session of a removed link cut after $took ms (grace period 5000)"
echo "removed link: session cut after $took ms"
wait_for 5 fds_are "$PVX_PID" "$((fds_before - 1))"

# --- 5. a rule renamed on the same port in one reload: it binds again
graph "$(ingress web2 "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)"
reload
wait_for 5 port_open "$web"
assert_eq "$(tag "$web")" A "renamed rule on the same port"
grep -q "link web2: listen on" "$T/pvx.log" && fail "renamed rule could not bind"

# --- 6. a backend that never answers: closed at its connect timeout
graph "$(ingress web2 "127.0.0.1:$web" "127.0.0.1:$ea" nginx $$)" \
	"$(ingress slow "127.0.0.1:$slow" "127.0.0.1:$hole" hole $$ '"timeouts":{"connect_ms":1000}')" \
	"$(ingress slowdefault "127.0.0.1:$slow_default" "127.0.0.1:$hole" hole $$)"
reload
wait_for 5 port_open "$slow"
start=$(now_ms)
assert_eq "$(echo hi | nc -w 20 127.0.0.1 "$slow" || true)" "" "answer of a silent backend"
took=$(($(now_ms) - start))
[ "$took" -ge 900 ] && [ "$took" -lt 2500 ] || fail "connect_ms 1000: client closed after $took ms"
start=$(now_ms)
assert_eq "$(echo hi | nc -w 20 127.0.0.1 "$slow_default" || true)" "" "answer of a silent backend"
took2=$(($(now_ms) - start))
[ "$took2" -ge 4900 ] && [ "$took2" -lt 6500 ] || fail "default connect timeout: client closed after $took2 ms"
grep -q "link slow: connect to 127.0.0.1:$hole failed: Connection timed out" "$T/pvx.log" ||
	fail "connect timeout not logged"
echo "connect timeouts: $took ms (connect_ms 1000), $took2 ms (default)"
pvx_alive
echo "PASS"
