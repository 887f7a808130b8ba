#!/bin/bash
# A request body of 1 MiB of nested brackets to pv-ctrl is refused with
# 400 "nesting too deep", and pvd's event loop, which also supervises the
# containers, is not held by it: another client sent right after it is
# answered. jsmn alone would spend minutes on such a body (it walks back
# over every closed container at each closing bracket); the depth is
# checked in one linear pass first.
# pv-test: serial
set -eu
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/helpers/xconnect.sh"
need_root
need_cmd curl jq

SOCK=$T/pv-ctrl
echo '{"#spec":"pantavisor-service-system@1","device.json":{}}' >"$T/state.json"
start_pvd "$T/pvd.log" "$T/state.json" "$T/run" --no-xconnect
wait_for 30 curl -sf --max-time 1 --unix-socket "$SOCK" http://localhost/containers

# 512 Ki '[' then 512 Ki ']': 1 MiB, pv-ctrl's largest body.
"$PYTHON" -c 'import sys; n = 512 * 1024; sys.stdout.write("[" * n + "]" * n)' \
	>"$T/nested.json"
assert_eq "$(stat -c %s "$T/nested.json")" 1048576 "body size"

curl -sS --max-time 60 --unix-socket "$SOCK" -X PUT -o "$T/nested.out" \
	-w '%{http_code}\n' --data-binary @"$T/nested.json" \
	http://localhost/daemons/pv-xconnect >"$T/nested.code" 2>&1 &
big=$!
# The other client starts once the big body is on its way (pvd has read
# part of it), and must be answered while pvd handles it (30 s is a hang
# guard: a loop held by the body would take minutes).
wait_for 30 sh -c "grep -q . '$T/nested.code' || [ -s '$T/nested.out' ] ||
	[ \$(ss -xH state connected src '$SOCK' 2>/dev/null | wc -l) -ge 1 ]"
got=$(curl -sS --max-time 30 --unix-socket "$SOCK" http://localhost/containers) ||
	fail "another client was not answered while the nested body was handled"
assert_eq "$got" "[]" "GET /containers beside the nested body"
wait "$big" || fail "the nested body's client: $(cat "$T/nested.code")"
assert_eq "$(cat "$T/nested.code")" 400 "status for 1 MiB of nested brackets"
reason=$(jq -r .error "$T/nested.out")
case $reason in
*"nesting too deep"*) ;;
*) fail "error for the nested body: $reason" ;;
esac
kill -0 $PID 2>/dev/null || fail "pvd died"
echo "1 MiB nested body: 400 ($reason); another client answered meanwhile"
